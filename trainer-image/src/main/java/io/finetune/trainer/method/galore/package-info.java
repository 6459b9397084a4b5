/**
 * GaLore (Zhao et al. 2024, arXiv 2403.03507): the method (every parameter trains, targeted 2-D weights get the projected
 * update), its optimizer (a {@link io.finetune.trainer.method.galore.GaloreAdamW} per targeted weight, AdamW for the rest),
 * the gradient projector and the settings. The SVD/QR it needs is in {@code linalg}; the AdamW constants in {@code optim}.
 */
package io.finetune.trainer.method.galore;
