package io.finetune.trainer.data;

import io.finetune.api.v1alpha1.DatasetFormat;
import io.finetune.api.v1alpha1.RecordPolicy;
import io.finetune.trainer.spec.DataSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads the JSONL train (and optional eval) file, or a directory of *.jsonl files, tokenizes every record, applies the
 * invalid/overlong policies of spec.dataset and splits off the held-out part. Every rejected record is reported as
 * {@code "<file>:<line>: <what>"}; the format is spec.dataset.format or, when unset, detected from the first record.
 */
public final class DatasetLoader {
    private final DataSettings spec;
    private final TextTokenizer tok;
    private final int maxSeqLength;
    private final RecordPolicy invalidPolicy;
    private final RecordPolicy overlongPolicy;
    private DatasetFormat format;
    private RecordEncoder encoder;
    private int skippedInvalid;
    private int truncated;
    private int skippedOverlong;

    private DatasetLoader(DataSettings spec, TextTokenizer tok) {
        this.spec = spec;
        this.tok = tok;
        this.maxSeqLength = spec.maxSeqLength();
        this.invalidPolicy = spec.invalidRecords();
        this.overlongPolicy = spec.overlongRecords();
        this.format = spec.format();
    }

    /** evalFile may be null (then spec.evalFraction() is split off with the seed). */
    public static LoadedDataset load(DataSettings spec, Path trainFile, Path evalFile, TextTokenizer tok, long seed)
            throws IOException {
        return new DatasetLoader(spec, tok).run(trainFile, evalFile, seed);
    }

    private LoadedDataset run(Path trainFile, Path evalFile, long seed) throws IOException {
        List<Example> all = readSource(trainFile);
        List<Example> train;
        List<Example> eval;
        if (evalFile != null) {
            train = all;
            eval = readSource(evalFile);
        } else {
            double fraction = spec.evalFraction();
            EvalSplit.Parts<Example> parts = EvalSplit.split(all, fraction, seed);
            train = parts.train();
            eval = parts.eval();
        }
        long trainTokens = train.stream().mapToLong(Example::length).sum();
        long lossTokens = train.stream().mapToLong(Example::lossTokens).sum();
        DataStats stats = new DataStats(format, train.size() + eval.size(), train.size(), eval.size(), skippedInvalid,
                truncated, skippedOverlong, trainTokens, lossTokens);
        return new LoadedDataset(train, eval, stats);
    }

    /** A JSONL file, or a directory whose *.jsonl files are read in name order (empty files allowed there). */
    private List<Example> readSource(Path source) throws IOException {
        int invalidBefore = skippedInvalid;
        int overlongBefore = skippedOverlong;
        List<Example> examples = new ArrayList<>();
        if (Files.isDirectory(source)) {
            List<Path> files;
            try (Stream<Path> listing = Files.list(source)) {
                files = listing.filter(f -> f.getFileName().toString().endsWith(".jsonl") && Files.isRegularFile(f))
                        .sorted().toList();
            }
            for (Path file : files) {
                readFile(file, examples);
            }
        } else if (Files.isRegularFile(source)) {
            if (readFile(source, examples) == 0) {
                throw DatasetException.atLine(source, 1, "empty dataset: no JSON records in the file");
            }
        } else {
            throw new NoSuchFileException(source.toString(), null, "dataset file not found");
        }
        if (examples.isEmpty()) {
            throw DatasetException.inFile(source, "no usable records: " + (skippedInvalid - invalidBefore)
                    + " skipped as invalid, " + (skippedOverlong - overlongBefore) + " skipped as longer than maxSeqLength "
                    + maxSeqLength + (Files.isDirectory(source) ? " (in the directory's *.jsonl files)" : ""));
        }
        return examples;
    }

    /** Appends the file's usable examples; returns how many non-blank lines it had. */
    private int readFile(Path file, List<Example> examples) throws IOException {
        int invalidBefore = skippedInvalid;
        List<JsonlReader.Line> lines = JsonlReader.read(file, this::invalid);
        for (JsonlReader.Line line : lines) {
            if (encoder == null && !chooseFormat(file, line)) {
                continue;
            }
            Example example;
            try {
                example = encoder.encode(line.json());
            } catch (InvalidRecordException e) {
                invalid(DatasetException.atLine(file, line.number(), e.getMessage() + formatNote()));
                continue;
            }
            example = applyOverlongPolicy(file, line.number(), example);
            if (example != null) {
                examples.add(example);
            }
        }
        return lines.size() + (skippedInvalid - invalidBefore);
    }

    /** Detects the format from the first record when the spec leaves it open; false if that record is unusable. */
    private boolean chooseFormat(Path file, JsonlReader.Line line) {
        if (format == null) {
            format = RecordEncoder.detect(line.json());
            if (format == null) {
                List<String> names = new ArrayList<>();
                line.json().fieldNames().forEachRemaining(names::add);
                invalid(DatasetException.atLine(file, line.number(), "cannot detect the dataset format: expected a"
                        + " \"text\", \"prompt\"+\"completion\" or \"messages\" field, record has " + names
                        + " (or set spec.dataset.format)"));
                return false;
            }
        }
        encoder = new RecordEncoder(format, tok);
        return true;
    }

    private Example applyOverlongPolicy(Path file, int line, Example example) {
        if (example.length() <= maxSeqLength) {
            return example;
        }
        switch (overlongPolicy) {
            case Skip -> {
                skippedOverlong++;
                return null;
            }
            case Truncate -> {
                Example cut = new Example(Arrays.copyOf(example.inputIds(), maxSeqLength),
                        Arrays.copyOf(example.labels(), maxSeqLength));
                if (cut.lossTokens() == 0) {
                    // Nothing of the completion/assistant turn survives the cut: the record would only cost compute.
                    skippedOverlong++;
                    return null;
                }
                truncated++;
                return cut;
            }
            default -> throw DatasetException.atLine(file, line, "record has " + example.length()
                    + " tokens, longer than maxSeqLength " + maxSeqLength + " (spec.dataset.overlongRecords: Fail)");
        }
    }

    private void invalid(DatasetException e) {
        if (invalidPolicy == RecordPolicy.Fail) {
            throw e;
        }
        skippedInvalid++;
    }

    private String formatNote() {
        return spec.format() == null ? " (format " + formatName(format) + " detected from the first record)" : "";
    }

    static String formatName(DatasetFormat f) {
        return switch (f) {
            case TEXT -> "text";
            case PROMPT_COMPLETION -> "prompt-completion";
            case CHAT -> "chat";
        };
    }
}
