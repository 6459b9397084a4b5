package io.finetune.trainer.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * hf://org/name[@revision][/path] (and hf://datasets/org/name...) on the Hugging Face hub URL layout (huggingface_hub file_download.py / hf_api.py):
 * file list from {@code GET {HF_ENDPOINT}/api/models/{org}/{name}/revision/{rev}?blobs=true} (siblings[].rfilename, size,
 * lfs.sha256), files from {@code {HF_ENDPOINT}/{org}/{name}/resolve/{rev}/{path}} with {@code Authorization: Bearer HF_TOKEN}.
 * LFS files carry their sha256 (lfs.sha256, X-Linked-ETag), which the download is verified against. Read-only.
 */
final class HfStore implements Store {
    static final String DEFAULT_REVISION = "main";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI endpoint;
    private final Optional<String> token;
    private final HttpDownloader http;

    HfStore(StorageEnvironment env, HttpDownloader http) {
        this.endpoint = env.hfEndpoint();
        this.token = env.hfToken();
        this.http = http;
    }

    @Override
    public List<RemoteFile> list(StorageUri dir) {
        String rev = revision(dir);
        // Models: /api/models/org/name; datasets: /api/datasets/org/name. The resolve URL already carries "datasets/".
        String repoApi = dir.authority().startsWith(StorageUri.DATASETS_PREFIX)
                ? "/api/datasets/" + dir.authority().substring(StorageUri.DATASETS_PREFIX.length())
                : "/api/models/" + dir.authority();
        URI api = URI.create(endpoint + repoApi + "/revision/" + encode(rev) + "?blobs=true");
        JsonNode info;
        try {
            info = JSON.readTree(apiGet(dir, api));
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.REJECTED, dir.raw(), "hub answered with invalid JSON", e);
        }
        String prefix = dir.path().isEmpty() ? "" : dir.path() + "/";
        List<RemoteFile> out = new ArrayList<>();
        for (JsonNode s : info.path("siblings")) {
            String name = s.path("rfilename").asText("");
            if (name.isEmpty() || !name.startsWith(prefix) || name.contains("..")) {
                continue;
            }
            JsonNode lfs = s.path("lfs");
            long size = lfs.has("size") ? lfs.path("size").asLong() : s.path("size").asLong(-1);
            Optional<String> sha = Optional.of(lfs.path("sha256").asText("")).filter(v -> v.matches("[0-9a-f]{64}"));
            out.add(new RemoteFile(name.substring(prefix.length()), size, sha));
        }
        return out;
    }

    @Override
    public RemoteFile stat(StorageUri file) {
        StorageUri repo = new StorageUri(Scheme.HF, file.raw(), file.authority(), "", file.revision());
        return list(repo).stream().filter(f -> f.path().equals(file.path())).findFirst()
                .map(f -> new RemoteFile(file.fileName(), f.sizeBytes(), f.sha256()))
                .orElseThrow(() -> new StorageException(StorageException.Reason.NOT_FOUND, file.raw(),
                        "no file '" + file.path() + "' in " + file.authority() + " at revision " + revision(file)));
    }

    @Override
    public RemoteFile download(StorageUri file, RemoteFile expected, Path part) {
        StringBuilder path = new StringBuilder();
        for (String segment : file.path().split("/")) {
            path.append('/').append(encode(segment));
        }
        URI url = URI.create(endpoint + "/" + file.authority() + "/resolve/" + encode(revision(file)) + path);
        return http.download(file.raw(), url, token, expected, part);
    }

    @Override
    public void upload(Path source, StorageUri file) {
        throw Store.readOnly(file);
    }

    @Override
    public void delete(StorageUri file) {
        throw Store.readOnly(file);
    }

    private byte[] apiGet(StorageUri dir, URI api) {
        try {
            return http.get(dir.raw(), api, token);
        } catch (StorageException e) {
            if (e.reason() == StorageException.Reason.ACCESS_DENIED || e.reason() == StorageException.Reason.NOT_FOUND) {
                // The hub answers 401 for private, gated and non-existent repos alike when the token does not grant access.
                throw new StorageException(e.reason(), dir.raw(), "repository " + dir.authority() + " at revision "
                        + revision(dir) + " not found or not accessible"
                        + (token.isPresent() ? " with the configured HF_TOKEN" : " without a token (set HF_TOKEN in the Secret)")
                        + " (" + e.reason() + ")", e);
            }
            throw e;
        }
    }

    private static String revision(StorageUri uri) {
        return uri.revision().orElse(DEFAULT_REVISION);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
