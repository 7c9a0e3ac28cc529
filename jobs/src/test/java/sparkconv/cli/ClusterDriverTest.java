package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import sparkconv.spark.Kerberos;

/**
 * Which commands a YARN cluster-mode driver runs as a fresh keytab login (those that start no SparkContext, so nothing
 * would renew the submission's tokens they hold); without Kerberos the command runs as it is. The login itself runs
 * in YarnEndToEndIT (models promote in cluster mode, with delegation tokens that expire in 16 s).
 */
class ClusterDriverTest {
    @Test
    void onlyCommandsWithoutSparkRunAsAFreshLogin() {
        assertFalse(Main.startsSpark(new String[] {"models", "promote", "--store", "s", "--name", "m", "--version", "v1"}));
        assertFalse(Main.startsSpark(new String[] {"models", "list", "--store", "s"}));
        assertTrue(Main.startsSpark(new String[] {"evaluate", "--store", "s", "--name", "m", "--shards", "x"}));
        assertTrue(Main.startsSpark(new String[] {"train", "--shards", "x", "--store", "s"}));
        assertTrue(Main.startsSpark(new String[] {"no-such-command"}), "usage errors are left to run()");
    }

    @Test
    void withoutKerberosTheCommandRunsAsItIs() {
        assertEquals(3, Kerberos.withoutSubmissionTokens(() -> 3));
    }
}
