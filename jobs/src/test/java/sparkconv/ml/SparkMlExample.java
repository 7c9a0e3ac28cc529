package sparkconv.ml;

import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.IndexToString;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.url_decode;

/** Trains a CNN on labelled images (IMAGES/CLASS/FILE.png) in a Spark ML pipeline, scores them, saves and reloads the pipeline. */
public class SparkMlExample {
    public static void main(String[] args) throws Exception {
        String images = args[0]; // any Hadoop URI
        String work = args[1];   // shards, model store, the saved pipeline and the predictions go here
        SparkSession spark = SparkSession.builder().appName("sparkconv-ml-example").getOrCreate();
        // Many small image files per task: Spark counts each file as 4 MB by default, which makes a task (and a job's
        // worth of scheduling) per image
        spark.conf().set("spark.sql.files.openCostInBytes", "16384");

        // Spark's image data source, reading the class directories; the class is the image's directory (origin is a URI)
        Dataset<Row> df = spark.read().format("image").option("recursiveFileLookup", "true").load(images)
                .withColumn("class", regexp_extract(url_decode(col("image.origin")), "([^/]+)/[^/]+$", 1));

        StringIndexer indexer = new StringIndexer().setInputCol("class").setOutputCol("label");
        CnnClassifier cnn = new CnnClassifier()
                .setFeaturesCol("image").setLabelCol("label").setInputShape("28x28x1")
                .setModel("lenet5").setEpochs(1).setLearningRate(0.05).setSeed(42)
                .setWorkDir(work + "/work").setStore(work + "/store").setModelName("example");
        IndexToString names = new IndexToString().setInputCol("prediction").setOutputCol("predictedClass");
        PipelineModel model = new Pipeline().setStages(new PipelineStage[]{indexer, cnn, names}).fit(df);

        model.transform(df).select("image.origin", "class", "predictedClass", "probability")
                .write().mode("overwrite").parquet(work + "/predictions");
        model.write().overwrite().save(work + "/pipeline");

        PipelineModel loaded = PipelineModel.load(work + "/pipeline");
        loaded.transform(df).select("image.origin", "class", "predictedClass", "probability").show(5, false);
    }
}
