package io.finetune.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The images cannot be built here (no Docker engine), so their Dockerfiles are checked against the repository: the build
 * stage builds a module that exists with the right profile, every file copied into the runtime stage is one that build
 * produces, the runtime user is not root, and the entrypoint is the command the operator (docs/contracts.md, "Pod") and the chart use.
 */
class DockerfilesTest {
    private static final String TRAINER_JAR = io.finetune.api.TrainerContract.Paths.TRAINER_JAR;

    @Test
    void cudaTrainerImageUsesTheImagesLibtorchAndLeavesTheCpuJarOut() throws Exception {
        Dockerfile d = Dockerfile.parse(RepoFiles.root().resolve("trainer-image/Dockerfile"));
        checkTrainerImage(d);
        assertThat(buildCommand(d)).contains("-pl trainer-image").contains("-Dcuda");
        String env = String.join(" ", d.finalStage().all("ENV").stream().map(Dockerfile.Instruction::args).toList());
        // DJL finds libtorch and the JNI from these (LibUtils: <PYTORCH_LIBRARY_PATH>/<djl>-libdjl_torch.so first).
        assertThat(env).contains("PYTORCH_LIBRARY_PATH=/opt/libtorch", "PYTORCH_VERSION=${PYTORCH_VERSION}",
                "PYTORCH_FLAVOR=${PYTORCH_FLAVOR}", "DJL_OFFLINE=true");
        assertThat(d.finalStage().from()).isEqualTo("${BASE_IMAGE}");
        // The default build arguments describe one consistent PyTorch: the runtime image, its -devel twin for the JNI build,
        // its version (the one the jar's pytorch-jni was built for) and its CUDA flavor.
        String version = pomProperty(RepoFiles.root().resolve("pom.xml"), "pytorch.native.version");
        String base = arg(d, "BASE_IMAGE");
        assertThat(base).startsWith("pytorch/pytorch:" + version + "-cuda12.8-").endsWith("-runtime");
        assertThat(arg(d, "JNI_BUILD_IMAGE")).isEqualTo(base.replace("-runtime", "-devel"));
        assertThat(arg(d, "PYTORCH_VERSION")).isEqualTo(version);
        assertThat(arg(d, "PYTORCH_FLAVOR")).isEqualTo("cu128");
        // The CUDA profile exists and is what -Dcuda switches on (the "cpu" profile is active only without it).
        String pom = Files.readString(RepoFiles.root().resolve("trainer-image/pom.xml"));
        assertThat(pom).contains("<id>cuda</id>").contains("<name>!cuda</name>").contains("<exclude>ai.djl.pytorch:pytorch-native-cpu</exclude>");
    }

    /**
     * The JNI stage compiles DJL's JNI from DJL's sources at the jar's DJL version against the -devel image's torch, and the
     * runtime stage installs it where DJL looks first. What this cannot prove without Docker and a GPU: that the clone,
     * the compile and the link succeed for a given torch, or that DJL then loads the library (hack/gpu-check.sh does the
     * compile and load on a device machine).
     */
    @Test
    void cudaTrainerImageBuildsDjlsJniAgainstTheBaseImagesLibtorch() throws Exception {
        Dockerfile d = Dockerfile.parse(RepoFiles.root().resolve("trainer-image/Dockerfile"));
        assertThat(arg(d, "DJL_VERSION")).as("the DJL the jar is built with").isEqualTo(
                pomProperty(RepoFiles.root().resolve("pom.xml"), "djl.version"));
        assertThat(arg(d, "DJL_COMMIT")).as("the tag's commit, pinned").matches("[0-9a-f]{40}");
        Dockerfile.Stage jni = d.stage("jni");
        assertThat(jni.from()).isEqualTo("${JNI_BUILD_IMAGE}");
        String runs = String.join("\n", jni.all("RUN").stream().map(Dockerfile.Instruction::args).toList());
        assertThat(runs).contains("git clone", "--branch \"v${DJL_VERSION}\"", "https://github.com/deepjavalibrary/djl.git /djl")
                .contains("rev-parse HEAD)\" = \"${DJL_COMMIT}\"").contains("openjdk-17-jdk-headless", "cmake", "g++")
                .contains("build-djl-jni.sh /djl /out");
        Dockerfile.Copy script = Dockerfile.Copy.of(jni.last("COPY"));
        assertThat(script.sources()).containsExactly("hack/build-djl-jni.sh");
        Path local = RepoFiles.root().resolve("hack/build-djl-jni.sh");
        assertThat(local).as("copied from the build context").isRegularFile().isExecutable();
        assertThat(Files.readString(d.file().resolveSibling("Dockerfile.dockerignore"))).doesNotContain("hack");
        assertThat(Files.readString(local)).contains("javac -h", "cmake -DCMAKE_PREFIX_PATH=\"$TORCH_PREFIX\"",
                "torch.utils.cmake_prefix_path", "libdjl_torch.so", "torch-version.txt");

        List<Dockerfile.Copy> fromJni = runtimeCopies(d).stream().filter(c -> "jni".equals(c.from())).toList();
        assertThat(fromJni).singleElement().satisfies(c -> {
            assertThat(c.sources()).containsExactly("/out/");
            assertThat(c.destination()).isEqualTo("/opt/finetune/jni/");
        });
        String install = String.join("\n", d.finalStage().all("RUN").stream().map(Dockerfile.Instruction::args).toList());
        assertThat(install).as("installed as <djl version>-libdjl_torch.so in the directory PYTORCH_LIBRARY_PATH names")
                .contains("cp /opt/finetune/jni/libdjl_torch.so \"$TORCH_LIB/${DJL_VERSION}-libdjl_torch.so\"")
                .contains("ln -s \"$TORCH_LIB\" /opt/libtorch")
                .contains("ldd -r");
        assertThat(install).as("the runtime torch is the one the JNI was compiled against, and the flavor matches its CUDA")
                .contains("/opt/finetune/jni/torch-version.txt", "torch.__version__ == built", "os.environ[\"PYTORCH_FLAVOR\"]");
    }

    @Test
    void cpuTrainerImageBundlesTheCpuLibtorch() throws Exception {
        Dockerfile d = Dockerfile.parse(RepoFiles.root().resolve("trainer-image/Dockerfile.cpu"));
        checkTrainerImage(d);
        assertThat(buildCommand(d)).contains("-pl trainer-image").doesNotContain("-Dcuda");
    }

    @Test
    void operatorImageRunsTheQuarkusFastJarLikeTheChart() throws Exception {
        Dockerfile d = Dockerfile.parse(RepoFiles.root().resolve("operator/src/main/docker/Dockerfile.jvm"));
        assertNonRoot(d);
        assertThat(d.entrypoint()).containsExactly("java", "-jar", "/deployments/quarkus-run.jar");
        JsonNode command = HelmChart.render(null).operatorContainer().path("command");
        assertThat(command.toString()).as("the chart's Deployment runs the image's entrypoint")
                .isEqualTo("[\"java\",\"-jar\",\"/deployments/quarkus-run.jar\"]");
        assertThat(buildCommand(d)).contains("-pl operator");
        List<Dockerfile.Copy> copies = runtimeCopies(d);
        assertThat(copies).extracting(Dockerfile.Copy::destination)
                .contains("/deployments/lib/", "/deployments/", "/deployments/app/", "/deployments/quarkus/");
        for (Dockerfile.Copy copy : copies) {
            for (String source : copy.sources()) {
                assertThat(source).as("copied from the build stage's operator output").startsWith("/src/operator/target/quarkus-app/");
            }
        }
        Path module = RepoFiles.root().resolve("operator");
        assertThat(module.resolve("pom.xml")).exists();
        assertThat(parentModules()).contains("operator");
        assertThat(Files.readString(module.resolve("pom.xml"))).as("Quarkus builds the fast-jar layout").contains("quarkus-maven-plugin");
    }

    /** Every path the operator image copies exists in the operator's build output (built earlier in the reactor). */
    @Test
    void operatorBuildOutputHoldsEveryPathTheImageCopies() throws Exception {
        Dockerfile d = Dockerfile.parse(RepoFiles.root().resolve("operator/src/main/docker/Dockerfile.jvm"));
        BuildOutput.require("operator/target/quarkus-app", "mvn -pl operator -am package");
        List<Dockerfile.Copy> copies = runtimeCopies(d);
        assertThat(copies).isNotEmpty();
        for (Dockerfile.Copy copy : copies) {
            for (String source : copy.sources()) {
                Path local = RepoFiles.root().resolve(source.substring("/src/".length()).replace("*.jar", "quarkus-run.jar"));
                assertThat(local).as(source + " exists in the build output").exists();
            }
        }
    }

    /** Runs the image's entrypoint against the locally built jar (when the trainer module was built in this reactor). */
    @Test
    void trainerEntrypointStartsTheJarsMainClass() throws Exception {
        Path jar = BuildOutput.require("trainer-image/target/finetune-trainer.jar", "mvn -pl trainer-image -am package");
        List<String> entrypoint = Dockerfile.parse(RepoFiles.root().resolve("trainer-image/Dockerfile.cpu")).entrypoint();
        List<String> command = new java.util.ArrayList<>(entrypoint.stream().map(a -> a.equals(TRAINER_JAR) ? jar.toString() : a).toList());
        command.set(0, Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--help");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        String out = new String(p.getInputStream().readAllBytes());
        if (!done) {
            p.destroyForcibly();
        }
        assertThat(done).as("`java -jar finetune-trainer.jar --help` finishes").isTrue();
        assertThat(out).doesNotContain("no main manifest attribute", "Could not find or load main class", "NoClassDefFoundError");
    }

    private static void checkTrainerImage(Dockerfile d) throws IOException {
        assertNonRoot(d);
        assertThat(d.entrypoint()).as("docs/contracts.md: the operator runs `java -jar " + TRAINER_JAR + " pod`")
                .containsExactly("java", "-jar", TRAINER_JAR);
        List<Dockerfile.Copy> copies = runtimeCopies(d).stream().filter(c -> "build".equals(c.from())).toList();
        assertThat(copies).singleElement().satisfies(copy -> {
            assertThat(copy.from()).isEqualTo("build");
            assertThat(copy.destination()).isEqualTo(TRAINER_JAR);
            // The build stage works in /src on a copy of the repository; this is the jar the trainer module's build writes.
            String finalName = pomElement(RepoFiles.root().resolve("trainer-image/pom.xml"), "finalName");
            assertThat(copy.sources()).containsExactly("/src/trainer-image/target/" + finalName + ".jar");
        });
        assertThat(Files.readString(RepoFiles.root().resolve("trainer-image/pom.xml"))).as("the shaded jar is runnable")
                .contains("maven-shade-plugin").contains("<mainClass>io.finetune.trainer.Main</mainClass>");
        assertThat(parentModules()).contains("trainer-image");
    }

    private static void assertNonRoot(Dockerfile d) {
        String user = d.finalStage().last("USER").args();
        String uid = user.split(":")[0];
        assertThat(uid).as(d.file() + ": numeric USER so runAsNonRoot can verify it").matches("[0-9]+");
        assertThat(Integer.parseInt(uid)).as(d.file() + ": runtime user is not root").isPositive();
        assertThat(Files.exists(Path.of(d.file() + ".dockerignore"))).as(d.file() + ".dockerignore keeps target/ out of the context").isTrue();
        assertThat(d.stage("build").all("COPY")).as("the build stage copies the repository (context = repo root)")
                .extracting(Dockerfile.Instruction::args).contains(". .");
    }

    /** The default value of a global ARG (declared before the first FROM). */
    private static String arg(Dockerfile d, String name) throws IOException {
        Matcher m = Pattern.compile("(?m)^ARG " + Pattern.quote(name) + "=(\\S+)$").matcher(Files.readString(d.file()));
        if (!m.find()) {
            throw new AssertionError(d.file() + ": no ARG " + name + " with a default");
        }
        return m.group(1);
    }

    private static String buildCommand(Dockerfile d) {
        return d.stage("build").all("RUN").stream().map(Dockerfile.Instruction::args)
                .filter(a -> a.contains("mvn ")).findFirst().orElseThrow(() -> new AssertionError(d.file() + ": no mvn build"));
    }

    private static List<Dockerfile.Copy> runtimeCopies(Dockerfile d) {
        return d.finalStage().all("COPY").stream().map(Dockerfile.Copy::of).toList();
    }

    private static List<String> parentModules() throws IOException {
        Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(RepoFiles.root().resolve("pom.xml")));
        List<String> modules = new java.util.ArrayList<>();
        while (m.find()) {
            modules.add(m.group(1).trim());
        }
        return modules;
    }

    private static String pomProperty(Path pom, String name) throws IOException {
        return pomElement(pom, name);
    }

    private static String pomElement(Path pom, String element) throws IOException {
        Matcher m = Pattern.compile("<" + Pattern.quote(element) + ">([^<]+)</" + Pattern.quote(element) + ">").matcher(Files.readString(pom));
        if (!m.find()) {
            throw new AssertionError(pom + " has no <" + element + ">");
        }
        return m.group(1).trim();
    }
}
