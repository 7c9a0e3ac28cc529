package sparkconv.spark;

import java.io.IOException;
import java.security.PrivilegedAction;
import java.util.function.IntSupplier;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.UserGroupInformation;

import sparkconv.SparkconvException;

/**
 * Kerberos for a sparkconv JVM whose Hadoop configuration (HADOOP_CONF_DIR's core-site) asks for it. Under
 * spark-submit with --principal/--keytab Spark has logged in already (and renews); a JVM of its own (./sparkconv,
 * deploy/submit's cluster-mode check) logs in from {@code SPARKCONV_PRINCIPAL} / {@code SPARKCONV_KEYTAB}. Without
 * any credentials the job stops here, in one line, before it starts anything.
 */
public final class Kerberos {
    public static final String PRINCIPAL = "SPARKCONV_PRINCIPAL";
    public static final String KEYTAB = "SPARKCONV_KEYTAB";

    private Kerberos() {
    }

    /**
     * Runs {@code body} in a YARN cluster-mode driver as a fresh login from the application's keytab. There the driver
     * runs in the ApplicationMaster, logged in from the keytab but also holding the submission's delegation tokens,
     * which Hadoop's RPC client uses whenever it holds one; only a SparkContext's token manager renews them, and the
     * ResourceManager stops renewing them once it fetched fresh ones for the NodeManagers. A command that starts no
     * SparkContext (models promote) would reach HDFS with expired tokens once they outlived their lifetime (an
     * application that waited in YARN's queue, or short lifetimes): a login of its own has no tokens to expire. Without
     * a principal and keytab (the submission's tokens are all there is) it runs as it is.
     */
    public static int withoutSubmissionTokens(IntSupplier body) {
        String principal = System.getProperty("spark.kerberos.principal");
        String keytab = System.getProperty("spark.kerberos.keytab");
        if (!UserGroupInformation.isSecurityEnabled() || principal == null || keytab == null) {
            return body.getAsInt();
        }
        UserGroupInformation fresh;
        try {
            fresh = UserGroupInformation.loginUserFromKeytabAndReturnUGI(principal, keytab);
        } catch (IOException e) {
            // the message names the principal and the keytab's path, never its contents
            throw new SparkconvException("Kerberos login as " + principal + " from keytab " + keytab + " failed: " + e.getMessage());
        }
        return fresh.doAs((PrivilegedAction<Integer>) body::getAsInt);
    }

    public static void login() {
        Configuration conf = new Configuration();
        if (!"kerberos".equalsIgnoreCase(conf.getTrimmed("hadoop.security.authentication", "simple"))) {
            return;
        }
        if (!UserGroupInformation.isSecurityEnabled()) {
            return; // spark-submit configured UGI otherwise (its own setConfiguration would reset a login it made)
        }
        String principal = System.getenv(PRINCIPAL);
        String keytab = System.getenv(KEYTAB);
        try {
            UserGroupInformation current = UserGroupInformation.getCurrentUser();
            if (current.hasKerberosCredentials() || current.getCredentials().numberOfTokens() > 0) {
                return;
            }
            if (principal != null && !principal.isBlank() && keytab != null && !keytab.isBlank()) {
                UserGroupInformation.loginUserFromKeytab(principal, keytab);
                return;
            }
        } catch (IOException e) {
            // the message names the principal and the keytab's path, never its contents
            throw new SparkconvException("Kerberos login as " + principal + " from keytab " + keytab + " failed: " + e.getMessage());
        }
        throw new SparkconvException("the cluster uses Kerberos (hadoop.security.authentication=kerberos) and this process has "
                + "no Kerberos ticket: pass --principal PRINCIPAL --keytab KEYTAB to deploy/submit (./sparkconv: "
                + PRINCIPAL + " and " + KEYTAB + "), or kinit first");
    }
}
