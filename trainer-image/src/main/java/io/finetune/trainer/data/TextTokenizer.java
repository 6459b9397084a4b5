package io.finetune.trainer.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Hugging Face tokenizer (tokenizer.json through DJL's native binding) plus the special tokens and chat template of
 * tokenizer_config.json. Encoding never truncates, pads or adds special tokens: the data pipeline places bos/eos itself,
 * so what the model sees is decided in one place.
 */
public final class TextTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer hf;
    private final TokenizerFiles files;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, TokenizerFiles files) {
        this.hf = tokenizer;
        this.files = files;
    }

    /** @param modelOrTokenizerDir a model directory holding tokenizer.json, or the tokenizer.json file itself */
    public static TextTokenizer load(Path modelOrTokenizerDir) throws IOException {
        Path json = Files.isDirectory(modelOrTokenizerDir)
                ? modelOrTokenizerDir.resolve(TokenizerFiles.TOKENIZER_JSON) : modelOrTokenizerDir;
        if (!Files.isRegularFile(json)) {
            throw new IOException(json + ": no such file (a model directory needs a Hugging Face tokenizer.json)");
        }
        TokenizerFiles files = TokenizerFiles.read(json);
        HuggingFaceTokenizer tokenizer;
        try {
            // The file itself, not the directory: DJL would otherwise apply tokenizer_config.json settings of its own.
            tokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(json)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
        } catch (RuntimeException e) {
            throw new IOException(json + ": the tokenizers library cannot load it: " + e.getMessage(), e);
        }
        return new TextTokenizer(tokenizer, files);
    }

    /** Token ids of {@code text}; special-token strings inside the text (e.g. from a chat template) map to their ids. */
    public int[] encode(String text) {
        if (text.isEmpty()) {
            return new int[0];
        }
        // Straight to the native ids: HuggingFaceTokenizer.encode also copies tokens, offsets, masks and word ids
        // across JNI for every call, which made dataset loading ~2.5x slower (measured on 20k records).
        long encoding = TokenizersLibrary.LIB.encode(hf.getHandle(), text, false);
        long[] ids;
        try {
            ids = TokenizersLibrary.LIB.getTokenIds(encoding);
        } finally {
            TokenizersLibrary.LIB.deleteEncoding(encoding);
        }
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** Text of {@code ids}, special tokens (bos, eos, pad, ...) skipped. */
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return hf.decode(longs, true);
    }

    /** 1 + the highest id in the vocabulary (model vocab and added tokens). */
    public int vocabSize() {
        return files.vocabSize();
    }

    public OptionalInt bosId() {
        return idOf(files.bosToken());
    }

    public OptionalInt eosId() {
        return idOf(files.eosToken());
    }

    /** pad_token, else eos (the usual choice for LLaMA-family models), else 0. */
    public int padId() {
        OptionalInt pad = idOf(files.padToken());
        if (pad.isPresent()) {
            return pad.getAsInt();
        }
        return eosId().orElse(0);
    }

    public Optional<String> bosToken() {
        return files.bosToken().filter(files.vocab()::containsKey);
    }

    public Optional<String> eosToken() {
        return files.eosToken().filter(files.vocab()::containsKey);
    }

    /** The id of one vocabulary entry, if the vocabulary has it. */
    public OptionalInt tokenId(String token) {
        Integer id = files.vocab().get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** tokenizer_config.json "chat_template" (the "default" one when several are named). */
    public Optional<String> chatTemplate() {
        return files.chatTemplate();
    }

    @Override
    public void close() {
        hf.close();
    }

    private OptionalInt idOf(Optional<String> token) {
        return token.map(this::tokenId).orElse(OptionalInt.empty());
    }
}
