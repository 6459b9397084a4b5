package io.finetune.charts;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Both trainer images carry the Gloo binding (and the CUDA image the NCCL binding, built in the same stage) where the trainer looks for it by default (GlooLibrary.DEFAULT_PATH,
 * /opt/finetune/lib/libfinetune_gloo.so), built by the same script and sources hack/test.sh builds and tests, on the
 * Debian release whose libgloo-dev it was tested against, and checked to link in the runtime image. What this cannot
 * prove without Docker: that the stage builds and that the runtime image's C++ runtime is new enough (the ldd -r step
 * fails the image build if not).
 */
class TrainerImagesGlooTest {

    @ParameterizedTest
    @ValueSource(strings = {"trainer-image/Dockerfile", "trainer-image/Dockerfile.cpu"})
    void imageBuildsTheGlooBindingAndInstallsItAtTheDefaultPath(String path) throws Exception {
        Path file = RepoFiles.root().resolve(path);
        Dockerfile d = Dockerfile.parse(file);
        assertThat(arg(file, "GLOO_BUILD_IMAGE")).isEqualTo("debian:bookworm");
        Dockerfile.Stage gloo = d.stage("gloo");
        assertThat(gloo.from()).isEqualTo("${GLOO_BUILD_IMAGE}");
        List<Dockerfile.Copy> inputs = gloo.all("COPY").stream().map(Dockerfile.Copy::of).toList();
        // the CUDA image builds the NCCL binding in the same stage (g++ only, no NCCL at build time)
        boolean cuda = path.equals("trainer-image/Dockerfile");
        List<String> expected = cuda ? List.of("hack/build-gloo-jni.sh", "trainer-image/src/main/native/gloo",
                "hack/build-nccl-jni.sh", "trainer-image/src/main/native/nccl")
                : List.of("hack/build-gloo-jni.sh", "trainer-image/src/main/native/gloo");
        assertThat(inputs).extracting(c -> c.sources().get(0)).containsExactlyInAnyOrderElementsOf(expected);
        for (Dockerfile.Copy input : inputs) {
            assertThat(RepoFiles.root().resolve(input.sources().get(0))).as("in the build context").exists();
        }
        assertThat(RepoFiles.root().resolve("hack/build-gloo-jni.sh")).isExecutable();
        assertThat(Files.readString(Path.of(file + ".dockerignore"))).doesNotContain("hack", "native");
        String runs = String.join("\n", gloo.all("RUN").stream().map(Dockerfile.Instruction::args).toList());
        assertThat(runs).contains("libgloo-dev", "g++", "openjdk-17-jdk-headless", "hack/build-gloo-jni.sh --bundle /out");
        if (cuda) {
            assertThat(runs).contains("hack/build-nccl-jni.sh --bundle /out");
        }

        List<Dockerfile.Copy> fromGloo = d.finalStage().all("COPY").stream().map(Dockerfile.Copy::of)
                .filter(c -> "gloo".equals(c.from())).toList();
        assertThat(fromGloo).singleElement().satisfies(c -> {
            assertThat(c.sources()).containsExactly("/out/");
            assertThat(c.destination()).isEqualTo("/opt/finetune/lib/");
        });
        String install = String.join("\n", d.finalStage().all("RUN").stream().map(Dockerfile.Instruction::args).toList());
        assertThat(install).contains("ldd -r /opt/finetune/lib/libfinetune_gloo.so");
        if (cuda) {
            assertThat(install).contains("ldd -r /opt/finetune/lib/libfinetune_nccl.so", "libnccl.so.2");
        }
    }

    private static String arg(Path file, String name) throws Exception {
        Matcher m = Pattern.compile("(?m)^ARG " + Pattern.quote(name) + "=(\\S+)$").matcher(Files.readString(file));
        if (!m.find()) {
            throw new AssertionError(file + ": no ARG " + name + " with a default");
        }
        return m.group(1);
    }
}
