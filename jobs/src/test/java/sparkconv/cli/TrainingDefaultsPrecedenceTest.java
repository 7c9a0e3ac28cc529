package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import sparkconv.train.TrainOptions;

/** Flag given &gt; the model's own training defaults &gt; the command's defaults from conf/. */
class TrainingDefaultsPrecedenceTest {
    private static TrainOptions parse(String... args) {
        CommandLine cli = new CommandLine(new Main()).setDefaultValueProvider(new ConfDefaults());
        CommandLine.ParseResult parsed = cli.parseArgs(args);
        TrainCommand train = (TrainCommand) parsed.subcommand().commandSpec().userObject();
        return train.training.toTrainOptions();
    }

    @Test
    void theModelsDefaultsApplyUnlessAFlagIsGiven() {
        TrainOptions paper = parse("train", "--shards", "s", "--store", "t", "--model", "candle-cnn-20");
        assertEquals("adam", paper.hyper().updater());
        assertEquals(1e-5, paper.hyper().learningRate());
        assertEquals(0.0, paper.hyper().l2());
        assertEquals("constant", paper.control().schedule().kind());
        assertEquals(2, paper.control().patience());
        assertEquals("loss", paper.control().stopOn());
        assertEquals(20, paper.epochs());

        TrainOptions flags = parse("train", "--shards", "s", "--store", "t", "--model", "candle-cnn-20", "--lr", "0.001",
                "--patience", "0", "--epochs", "3", "--stop-on", "accuracy");
        assertEquals(0.001, flags.hyper().learningRate());
        assertEquals(0, flags.control().patience(), "an explicit 0 wins over the model's 2");
        assertEquals(3, flags.epochs());
        assertEquals("accuracy", flags.control().stopOn());
        assertEquals("adam", flags.hyper().updater(), "settings not given still come from the model");

        TrainOptions image = parse("train", "--shards", "s", "--store", "t", "--model", "lenet5");
        assertEquals("nesterovs", image.hyper().updater(), "no model defaults: the command's (conf/) defaults");
        assertEquals(0.05, image.hyper().learningRate());
        assertEquals("exp", image.control().schedule().kind());
        assertEquals(0, image.control().patience());
        assertEquals("accuracy", image.control().stopOn());
    }
}
