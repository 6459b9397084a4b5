/**
 * Where the trainer reads models and datasets and writes artifacts and checkpoints. Entry point: {@link
 * io.finetune.trainer.storage.Storage}, a facade over one class per job: {@code SourceFetch} (sources into the verified
 * cache), {@code Publisher} (manifest-last publishing, the destination write probe) and {@code RemoteCheckpoints}
 * (checkpoints under a destination: newest by listing, fetch, prune), sharing {@code Stores} (one store per scheme, the
 * retried calls).
 *
 * <table>
 *   <caption>Schemes</caption>
 *   <tr><th>URI</th><th>read</th><th>write</th><th>configured by (env, from the job's Secret)</th></tr>
 *   <tr><td>file:///path or a plain path</td><td>in place</td><td>yes</td><td>-</td></tr>
 *   <tr><td>pvc://claim/path</td><td>in place</td><td>yes</td><td>FINETUNE_PVC_ROOT (default /mnt/pvc)</td></tr>
 *   <tr><td>s3://bucket/prefix</td><td>cached</td><td>yes</td><td>AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *       AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL, S3_FORCE_PATH_STYLE (no keys: SDK default chain, e.g. IRSA)</td></tr>
 *   <tr><td>http(s)://host/file</td><td>cached, single files</td><td>no</td><td>-</td></tr>
 *   <tr><td>hf://org/name[@rev][/path], hf://datasets/org/name...</td><td>cached</td><td>no</td><td>HF_TOKEN,
 *       HF_ENDPOINT</td></tr>
 * </table>
 *
 * <p>Guarantees: downloads land in the cache dir only after their size (and sha256 when the source gives one: our
 * manifest.json, the hub's LFS sha256) matched; interrupted downloads resume with HTTP Range / S3 ranged GET. A published
 * directory gets manifest.json (path, sizeBytes, sha256 of every file) uploaded last, after any older manifest was removed,
 * and the artifact digest is "sha256:" + sha256(manifest bytes); before the manifest is written every file is checked as
 * the store holds it (S3: HEAD size and single-part ETag MD5; pvc/file: size and sha256 read back), and the manifest is read
 * back after, so a store that kept other bytes fails the publish instead of getting a digest. Checkpoints live under
 * {@code <destination>/checkpoints/step-N/}, each with its own manifest; a checkpoint without one is incomplete and never
 * resumed from. Retryable failures
 * (5xx except 501, 429, dropped connections, unreachable endpoints) are retried per {@link
 * io.finetune.trainer.storage.RetryPolicy} (FINETUNE_STORAGE_MAX_ATTEMPTS, default 5); errors carry a {@link
 * io.finetune.trainer.storage.StorageException.Reason} and name the URI, never a credential.
 */
package io.finetune.trainer.storage;
