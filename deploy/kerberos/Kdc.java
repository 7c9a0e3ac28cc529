import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;

import org.apache.hadoop.minikdc.MiniKdc;

/**
 * deploy/cluster --kerberos: Hadoop's MiniKdc (Apache Kerby) on 127.0.0.1, run as a single-file program
 * (java -cp KDC_CLASSPATH Kdc.java DIR PORT USER). It creates the service principals nn, dn, rm, nm and HTTP
 * for host localhost (the name Hadoop's clients ask tickets for; no _HOST substitution needed) in DIR/hadoop.keytab
 * and the user principal USER in DIR/USER.keytab (both 0600), writes DIR/krb5.conf, then DIR/ready, and serves
 * until killed. No password or key is printed.
 */
public class Kdc {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        String user = args[2];
        Files.createDirectories(dir.resolve("kdc"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Properties conf = MiniKdc.createConf();
        conf.setProperty(MiniKdc.KDC_BIND_ADDRESS, "localhost");
        conf.setProperty(MiniKdc.KDC_PORT, String.valueOf(port));
        MiniKdc kdc = new MiniKdc(conf, dir.resolve("kdc").toFile());
        kdc.start();
        Runtime.getRuntime().addShutdownHook(new Thread(kdc::stop));
        String realm = kdc.getRealm();
        File services = keytab(dir.resolve("hadoop.keytab"));
        kdc.createPrincipal(services, "nn/localhost", "dn/localhost", "rm/localhost", "nm/localhost", "HTTP/localhost");
        File userKeytab = keytab(dir.resolve(user + ".keytab"));
        kdc.createPrincipal(userKeytab, user);
        // MiniKdc rewrites the files with the umask's mode
        only(services.toPath());
        only(userKeytab.toPath());
        // TCP only (the KDC serves TCP); no DNS canonicalisation or reverse lookups of "localhost"
        String krb5 = String.join("\n",
                "[libdefaults]",
                "  default_realm = " + realm,
                "  udp_preference_limit = 1",
                "  dns_lookup_kdc = false",
                "  dns_lookup_realm = false",
                "  dns_canonicalize_hostname = false",
                "  rdns = false",
                "  forwardable = true",
                "[realms]",
                "  " + realm + " = {",
                "    kdc = localhost:" + kdc.getPort(),
                "  }",
                "[domain_realm]",
                "  localhost = " + realm,
                "");
        Files.writeString(dir.resolve("krb5.conf"), krb5);
        Files.writeString(dir.resolve("ready"), realm + "\n");
        Thread.currentThread().join();
    }

    static File keytab(Path p) throws Exception {
        Files.deleteIfExists(p);
        return p.toFile();
    }

    static void only(Path p) throws Exception {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
    }
}
