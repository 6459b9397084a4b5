package io.finetune.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.io.File;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Build step (api/pom.xml: exec-maven-plugin in process-test-classes) that generates the CRD from the API types, the way
 * crd-generator-maven-plugin does, plus one thing that plugin cannot: printer columns in the order they are declared on
 * {@link FineTuneJob}. fabric8's generator orders them by JSON path, which printed {@code NAME AGE METHOD PHASE ...};
 * kubectl's convention is the phase first and AGE last, as every built-in resource prints it. The generator's own
 * post-processor hook does the reordering, so the rest of the file is exactly what the generator writes.
 *
 * <p>Argument: the output directory (api/target/classes/META-INF/fabric8, which CrdInSyncTest compares with crds/).
 */
public final class CrdGeneration {
    private CrdGeneration() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            throw new IllegalArgumentException("error: usage: CrdGeneration <output directory>");
        }
        File out = new File(args[0]);
        if (!out.isDirectory() && !out.mkdirs()) {
            throw new IllegalStateException("error: cannot create the CRD output directory " + out);
        }
        int written = new CRDGenerator().customResourceClasses(FineTuneJob.class).forCRDVersions("v1")
                .withPostProcessor(new DeclaredColumnOrder()).inOutputDir(out).generate();
        if (written != 1) {
            throw new IllegalStateException("error: expected one CRD from " + FineTuneJob.class.getName() + ", generated " + written);
        }
    }

    /** The printer columns in the order of FineTuneJob's @AdditionalPrinterColumn annotations. */
    static List<String> declaredOrder() {
        return Arrays.stream(FineTuneJob.class.getAnnotationsByType(AdditionalPrinterColumn.class)).map(AdditionalPrinterColumn::name)
                .toList();
    }

    static final class DeclaredColumnOrder implements CRDPostProcessor {
        @Override
        public HasMetadata process(HasMetadata crd, String version) {
            List<String> order = declaredOrder();
            for (var v : ((CustomResourceDefinition) crd).getSpec().getVersions()) {
                List<CustomResourceColumnDefinition> columns = v.getAdditionalPrinterColumns();
                for (CustomResourceColumnDefinition c : columns) {
                    if (!order.contains(c.getName())) {
                        throw new IllegalStateException("error: printer column " + c.getName() + " is not declared on FineTuneJob");
                    }
                }
                columns.sort(Comparator.comparingInt(c -> order.indexOf(c.getName())));
            }
            return crd;
        }
    }
}
