package sparkconv.store;

import org.apache.hadoop.conf.Configuration;

/**
 * A training run's claim on a model version in a process of its own, for a test to kill: claims {@code args[1]}
 * {@code args[2]} in store {@code args[0]} with claims stale after {@code args[3]} seconds, says so, and holds it
 * (its heartbeat touching the claim) until the process dies.
 */
public final class ClaimHolder {
    private ClaimHolder() {
    }

    public static void main(String[] args) throws InterruptedException {
        Configuration conf = new Configuration();
        conf.set(ModelStore.CLAIM_STALE_SECONDS, args[3]);
        ModelStore.VersionClaim claim = new ModelStore(args[0], conf).claimVersion(args[1], args[2], false);
        System.out.println("claimed " + claim.version() + " pid " + ProcessHandle.current().pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
