package io.finetune.trainer.distributed;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of one launched child: this same program again, as torchrun reruns its script. The same java
 * executable, the same JVM options (heap, system properties, agents) and classpath, a main class and its arguments.
 * A debugger agent is left out: every child would try to listen on the launcher's debug port.
 *
 * @param executable   the java binary
 * @param jvmArguments the JVM's options, without the main class or its arguments
 * @param classPath    the classpath (the jar itself under {@code java -jar})
 * @param mainClass    the class whose main the child runs
 * @param arguments    the child's program arguments
 */
public record ChildCommand(String executable, List<String> jvmArguments, String classPath, String mainClass, List<String> arguments) {
    public ChildCommand {
        jvmArguments = List.copyOf(jvmArguments);
        arguments = List.copyOf(arguments);
    }

    /** This JVM again, running {@code mainClass} with {@code arguments}. */
    public static ChildCommand ofThisJvm(String mainClass, List<String> arguments) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> options = new ArrayList<>();
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!isDebugger(option)) {
                options.add(option);
            }
        }
        return new ChildCommand(java, options, System.getProperty("java.class.path"), mainClass, arguments);
    }

    static boolean isDebugger(String option) {
        return option.startsWith("-agentlib:jdwp") || option.startsWith("-Xrunjdwp") || option.equals("-Xdebug");
    }

    /** {@code java <options> -cp <classpath> <main> <arguments>}. */
    public List<String> commandLine() {
        List<String> line = new ArrayList<>();
        line.add(executable);
        line.addAll(jvmArguments);
        line.add("-cp");
        line.add(classPath);
        line.add(mainClass);
        line.addAll(arguments);
        return line;
    }
}
