import java.security.PrivilegedExceptionAction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FsShell;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.util.ToolRunner;

/**
 * deploy/cluster --kerberos: Hadoop's FsShell as a principal logged in from its keytab (there is no kinit here):
 * java -cp HADOOP_CONF:CLASSPATH HdfsAs.java PRINCIPAL KEYTAB -mkdir -p /a -- -chown u /a ... (commands split at --).
 */
public class HdfsAs {
    public static void main(String[] args) throws Exception {
        Configuration conf = new Configuration();
        UserGroupInformation.setConfiguration(conf);
        UserGroupInformation ugi = UserGroupInformation.loginUserFromKeytabAndReturnUGI(args[0], args[1]);
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
