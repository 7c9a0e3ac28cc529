import org.apache.hadoop.service.CompositeService;
import org.apache.hadoop.util.ShutdownHookManager;
import org.apache.hadoop.yarn.YarnUncaughtExceptionHandler;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.resourcemanager.ResourceManager;
import org.apache.hadoop.yarn.server.resourcemanager.security.DelegationTokenRenewer;

/**
 * deploy/cluster --manager yarn: Hadoop's ResourceManager, as its own main starts it, run as a single-file program
 * (java -cp HADOOP_CONF:CLASSPATH ResourceManagerMain.java) with one change: its delegation token renewer runs
 * without the pool tracker. In Hadoop 3.3.4 (hadoop-client-minicluster) that tracker, started whenever security is
 * on, loops over its map of pending renewals without ever waiting (YARN-11178, fixed in 3.3.5): a kerberized
 * ResourceManager kept a core busy for as long as it ran (0.55 of this 2-core machine's cores, sampled from /proc
 * during YarnEndToEndIT, taken from every other process). The tracker only adds a timeout and retries to renewals
 * that hang; renewals themselves run as before (Hadoop's own tests turn it off the same way).
 */
public class ResourceManagerMain {
    public static void main(String[] args) {
        Thread.setDefaultUncaughtExceptionHandler(new YarnUncaughtExceptionHandler());
        ResourceManager rm = new ResourceManager() {
            @Override
            protected DelegationTokenRenewer createDelegationTokenRenewer() {
                DelegationTokenRenewer renewer = super.createDelegationTokenRenewer();
                renewer.setDelegationTokenRenewerPoolTracker(false);
                return renewer;
            }
        };
        ShutdownHookManager.get().addShutdownHook(new CompositeService.CompositeServiceShutdownHook(rm),
                ResourceManager.SHUTDOWN_HOOK_PRIORITY);
        rm.init(new YarnConfiguration());
        rm.start();
    }
}
