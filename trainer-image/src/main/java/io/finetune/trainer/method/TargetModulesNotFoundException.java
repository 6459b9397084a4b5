package io.finetune.trainer.method;

/** A targetModules entry list that selects no linear module of the model (status reason TargetModulesNotFound). */
public final class TargetModulesNotFoundException extends RuntimeException {
    public TargetModulesNotFoundException(String message) {
        super(message);
    }
}
