/**
 * Small helpers with no trainer dependency: deleting a directory tree ({@link io.finetune.trainer.util.FileTrees}, the one
 * recursive delete) and reading/writing the Python-flavoured JSON that Hugging Face config files use (NaN, Infinity).
 */
package io.finetune.trainer.util;
