package org.nd4j.nativeblas;

/**
 * Compatibility shim that makes DL4J 1.0.0-M2.1's oneDNN layer helpers loadable.
 *
 * <p>M2.1's {@code BaseMKLDNNHelper.mklDnnEnabled()} looks up {@code org.nd4j.nativeblas.Nd4jCpu$Environment}
 * by name and calls {@code isUseMKLDNN()}, but in M2.1 the class moved to
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment} and the method became {@code isUseONEDNN()}.
 * Without this class every conv/pooling helper is dropped as "not supported" and training is ~7x slower.
 * {@code sparkconv.spark.OneDnnTest} fails if a version change makes this shim unnecessary or ineffective.
 */
public final class Nd4jCpu {
    private Nd4jCpu() {
    }

    public static final class Environment {
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        public boolean isUseMKLDNN() {
            return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN();
        }

        public void setUseMKLDNN(boolean use) {
            org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().setUseONEDNN(use);
        }
    }
}
