package io.finetune.api;

import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.api.v1alpha1.MethodType;
import org.junit.jupiter.api.Test;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The validator's range checks copy the CRD's bounds (the API server enforces the schema, but the trainer CLI and an
 * operator on a server without the schema's help run the validator alone). This holds the copies equal: for every field
 * with {@code @Min}/{@code @Max}, the value just outside each bound is refused naming the field, and the bound itself (or
 * the value just inside an exclusive one) is accepted. A bound only the schema enforces must be listed in
 * {@link #SCHEMA_ONLY}, so a new annotation cannot drift unnoticed.
 */
class ValidatorBoundsTest {
    private static final String VALID = """
            apiVersion: finetune.io/v1alpha1
            kind: FineTuneJob
            metadata:
              name: t
            spec:
              model:
                source: file:///models/tiny
              dataset:
                source: file:///data/train.jsonl
              method:
                type: LoRA
              output:
                destination: file:///out/t
            """;

    /** "field min|max" of bounds the validator leaves to the CRD schema (the server refuses such specs at admission). */
    private static final Set<String> SCHEMA_ONLY = Set.of(
            "spec.training.epochs max", "spec.training.batchSize max", "spec.training.gradientAccumulationSteps max",
            "spec.training.checkpointGracePeriodSeconds min", "spec.training.checkpointGracePeriodSeconds max");

    /** One annotated field: its path below spec and how to reach it. */
    private record Bounded(String path, List<Field> chain) {
        Field field() {
            return chain.get(chain.size() - 1);
        }
    }

    @Test
    void everyAnnotatedBoundIsTheValidatorsBound() throws Exception {
        List<Bounded> fields = new ArrayList<>();
        collect("spec", FineTuneJobSpec.class, new ArrayList<>(), fields);
        assertThat(fields).as("the walk finds the annotated fields").hasSizeGreaterThan(20);
        List<String> checked = new ArrayList<>();
        for (Bounded b : fields) {
            Min min = b.field().getAnnotation(Min.class);
            Max max = b.field().getAnnotation(Max.class);
            if (min != null) {
                check(b, "min", min.value(), min.inclusive(), -1, checked);
            }
            if (max != null) {
                check(b, "max", max.value(), max.inclusive(), +1, checked);
            }
        }
        assertThat(checked).as("every schema-only bound still exists").containsAll(SCHEMA_ONLY);
    }

    private void check(Bounded b, String side, double bound, boolean inclusive, int outward, List<String> checked) throws Exception {
        String key = b.path() + " " + side;
        checked.add(key);
        boolean integral = b.field().getType() != Double.class;
        double step = integral ? 1 : 1e-6;
        double outside = inclusive ? bound + outward * step : bound;
        double inside = inclusive ? bound : bound - outward * step;
        if (SCHEMA_ONLY.contains(key)) {
            return;
        }
        assertThat(violationsOf(b, outside)).as("%s = %s is outside [%s %s]", b.path(), outside, side, bound).contains(b.path());
        assertThat(violationsOf(b, inside)).as("%s = %s is inside [%s %s]", b.path(), inside, side, bound).doesNotContain(b.path());
    }

    /** Fields of the violations of VALID with {@code b} set to {@code value} (the method type made to fit the block). */
    private static List<String> violationsOf(Bounded b, double value) throws Exception {
        FineTuneJob job = FineTuneJobManifest.parse(VALID, "valid.yaml");
        FineTuneJobSpec spec = job.getSpec();
        if (b.path().startsWith("spec.method.galore.")) {
            spec.method.type = MethodType.GaLore;
        } else if (b.path().startsWith("spec.method.loraPlus.")) {
            spec.method.type = MethodType.LoRAPlus;
        }
        Object target = spec;
        for (Field f : b.chain().subList(0, b.chain().size() - 1)) {
            Object next = f.get(target);
            if (next == null) {
                next = f.getType().getDeclaredConstructor().newInstance();
                f.set(target, next);
            }
            target = next;
        }
        Field f = b.field();
        Class<?> type = f.getType();
        f.set(target, type == Integer.class ? (Object) (int) value : type == Long.class ? (Object) (long) value : (Object) value);
        return FineTuneJobValidator.validate(spec).stream().map(Violation::field).toList();
    }

    private static void collect(String path, Class<?> type, List<Field> chain, List<Bounded> out) {
        for (Field f : type.getFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            List<Field> here = new ArrayList<>(chain);
            here.add(f);
            String p = path + "." + f.getName();
            if (f.isAnnotationPresent(Min.class) || f.isAnnotationPresent(Max.class)) {
                out.add(new Bounded(p, here));
            } else if (f.getType().getPackageName().equals(FineTuneJobSpec.class.getPackageName()) && !f.getType().isEnum()) {
                collect(p, f.getType(), here, out);
            }
        }
    }
}
