import java.security.PrivilegedExceptionAction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FsShell;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.util.ToolRunner;

/**
 * A Hadoop client program as a principal logged in from its keytab (kinit without a ticket cache), for deploy/:
 * java -cp HADOOP_CONF:CLASSPATH AsPrincipal.java PRINCIPAL KEYTAB -mkdir -p /a -- -chown u /a   (FsShell commands,
 * split at --), or ... AsPrincipal.java PRINCIPAL KEYTAB MAIN_CLASS ARGS... (that class's main).
 */
public class AsPrincipal {
    public static void main(String[] args) throws Exception {
        Configuration conf = new Configuration();
        UserGroupInformation.setConfiguration(conf);
        UserGroupInformation ugi = UserGroupInformation.loginUserFromKeytabAndReturnUGI(args[0], args[1]);
        if (args.length > 2 && !args[2].startsWith("-")) {
            String[] rest = Arrays.copyOfRange(args, 3, args.length);
            ugi.doAs((PrivilegedExceptionAction<Object>) () -> Class.forName(args[2]).getMethod("main", String[].class)
                    .invoke(null, (Object) rest));
            System.exit(0);
        }
        List<List<String>> commands = new ArrayList<>();
        commands.add(new ArrayList<>());
        for (String a : Arrays.asList(args).subList(2, args.length)) {
            if (a.equals("--")) {
                commands.add(new ArrayList<>());
            } else {
                commands.get(commands.size() - 1).add(a);
            }
        }
        int rc = ugi.doAs((PrivilegedExceptionAction<Integer>) () -> {
            for (List<String> c : commands) {
                int r = ToolRunner.run(new FsShell(conf), c.toArray(String[]::new));
                if (r != 0) {
                    return r;
                }
            }
            return 0;
        });
        System.exit(rc);
    }
}
