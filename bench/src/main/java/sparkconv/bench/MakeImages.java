package sparkconv.bench;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import javax.imageio.ImageIO;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.hadoop.conf.Configuration;

import sparkconv.data.IdxDataset;
import sparkconv.data.ImageSet;

/**
 * Benchmark data: the first N Fashion-MNIST training images as 28x28 grey PNGs in {@code <out>/folder/<class>/<n>.png},
 * and the same files as {@code <out>/images.zip} and {@code <out>/images.tar.gz}. More than the 60,000 training images
 * (bench/run load): the images repeat under distinct names ({@code <class>/<nnnnnn>.png}), in the archives only.
 * Run by bench/run (images for preprocess / score / load). Arguments: OUT_DIR [N] [FASHION_MNIST_DIR]
 */
public class MakeImages {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 60_000;
        String data = args.length > 2 ? args[2] : IdxDataset.DEBIAN_FASHION_MNIST;
        ImageSet train = IdxDataset.load(data, IdxDataset.FASHION_CLASSES, new Configuration()).train();
        boolean repeated = n > train.size();
        String nameFormat = repeated ? "%06d" : "%05d";
        List<String> classes = train.classNames().stream().map(c -> c.replaceAll("[^A-Za-z0-9]+", "-")).toList();
        Path folder = out.resolve("folder");
        Files.createDirectories(out);
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(out.resolve("images.zip").toFile());
             OutputStream gz = new GZIPOutputStream(Files.newOutputStream(out.resolve("images.tar.gz")));
             TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
            for (int i = 0; i < n; i++) {
                int k = i % train.size();
                BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                img.getRaster().setDataElements(0, 0, 28, 28, java.util.Arrays.copyOfRange(train.pixels(), k * 784, (k + 1) * 784));
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(img, "png", png);
                byte[] bytes = png.toByteArray();
                String name = classes.get(train.labels()[k]) + "/" + String.format(nameFormat, i) + ".png";
                if (!repeated) {
                    Path file = folder.resolve(name);
                    Files.createDirectories(file.getParent());
                    Files.write(file, bytes);
                }
                zip.putArchiveEntry(new ZipArchiveEntry(name));
                zip.write(bytes);
                zip.closeArchiveEntry();
                TarArchiveEntry t = new TarArchiveEntry(name);
                t.setSize(bytes.length);
                tar.putArchiveEntry(t);
                tar.write(bytes);
                tar.closeArchiveEntry();
            }
        }
        System.out.printf("%d PNGs in %s, images.zip (%,d bytes), images.tar.gz (%,d bytes)%n", n,
                repeated ? "the archives only" : folder,
                Files.size(out.resolve("images.zip")), Files.size(out.resolve("images.tar.gz")));
    }
}
