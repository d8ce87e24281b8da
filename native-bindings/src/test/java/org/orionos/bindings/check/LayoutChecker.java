package org.orionos.bindings.check;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigInteger;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.orionos.bindings.CHeader;
import org.orionos.bindings.CTypedef;
import org.orionos.bindings.NotInHeader;

/**
 * Proves {@link CHeader} holders against the C headers they mirror: for each holder it writes a C
 * probe that includes the holder's headers and prints, per item, the value gcc computes; it compiles
 * and runs the probe and compares with the Java side. Items are:
 * <ul>
 * <li>every {@code public static final} int/long/short/byte/char field of the holder (Java name = C
 * name), and every such String field (C: a string-literal macro), except those marked
 * {@link NotInHeader} (those are still compared when the header defines them as a macro, so a
 * newer header proves them too);</li>
 * <li>for every nested class (any depth) with a {@code static GroupLayout LAYOUT} not marked
 * {@link NotInHeader}: {@code sizeof} and {@code _Alignof} of {@code struct|union <layout name>}
 * ({@code <layout name>} alone with {@link CTypedef}), and {@code offsetof} and {@code sizeof} of
 * every named member, walked recursively: members of unnamed groups are C anonymous members,
 * members of named groups are reached as {@code outer.inner}, members of arrays of structs as
 * {@code outer[0].inner}. Padding is skipped; an unnamed non-padding member is itself reported.</li>
 * </ul>
 * Every item sits on its own probe line, so a compile error (a misspelled constant, an enum constant
 * that does not exist, a member that does not exist) is mapped back to the item and reported as one
 * mismatch; the probe is then recompiled without the failing items. One probe per holder (each in
 * its own translation unit, because some headers cannot be included together, e.g. linux/nbd.h and
 * linux/nbd-netlink.h both declare {@code NBD_CMD_*}); holders are checked in parallel.
 *
 * <p>Other modules reuse it from this module's test-jar:
 * {@code LayoutChecker.assertMatchHeaders(LayoutChecker.holdersBeside(MyHolder.class))}.
 */
public final class LayoutChecker {
    private LayoutChecker() {
    }

    /** One disagreement between a holder and C; {@link #toString()} is the report line. */
    public record Mismatch(String holder, String struct, String field, String what, String javaValue,
                           String cValue) {
        /** Short key used by tests: {@code struct|field|what}. */
        public String key() {
            return struct + "|" + field + "|" + what;
        }

        @Override
        public String toString() {
            String where = struct.isEmpty() ? field : field.isEmpty() ? struct : struct + "." + field;
            return holder + ": " + where + " " + what + ": java=" + javaValue + " c=" + cValue;
        }
    }

    /** The {@link Mismatch#what()} of a holder whose header is not installed. */
    public static final String HEADER_MISSING = "header not installed";

    private enum Kind { CONSTANT, STRING, SIZE, ALIGN, OFFSET, MEMBER_SIZE }

    /** One probe line: a C expression and what Java says it must evaluate to. */
    private record Item(String owner, Kind kind, String struct, String field, String cExpr, BigInteger java,
                        int javaBits,
                        boolean ifdefGuard, String text) {
        Item(String owner, Kind kind, String struct, String field, String cExpr, BigInteger java, int javaBits,
             boolean ifdefGuard) {
            this(owner, kind, struct, field, cExpr, java, javaBits, ifdefGuard, null);
        }

        String what() {
            return switch (kind) {
                case CONSTANT, STRING -> "value";
                case SIZE -> "sizeof";
                case ALIGN -> "alignof";
                case OFFSET -> "offsetof";
                case MEMBER_SIZE -> "member sizeof";
            };
        }
    }

    private static final Pattern DIAG = Pattern.compile("^probe\\.c:(\\d+):\\d+: (error|fatal error|note): (.*)$");
    private static final Pattern ERROR = Pattern.compile("^.*?:\\d+:\\d+: (?:fatal )?error: (.*)$");

    // ---------------------------------------------------------------- discovery

    /**
     * All classes annotated {@link CHeader} in the compiled output (directory or jar) that holds
     * {@code anchor}, e.g. {@code target/classes} of a module; test classes are not in it.
     */
    public static List<Class<?>> holdersBeside(Class<?> anchor) {
        return classesBeside(anchor, c -> c.isAnnotationPresent(CHeader.class));
    }

    /** Classes (any nesting) in the compiled output that holds {@code anchor} that match {@code filter}. */
    public static List<Class<?>> classesBeside(Class<?> anchor, java.util.function.Predicate<Class<?>> filter) {
        Path root;
        try {
            root = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        List<String> names = new ArrayList<>();
        try {
            if (Files.isDirectory(root)) {
                try (Stream<Path> s = Files.walk(root)) {
                    s.filter(p -> p.toString().endsWith(".class"))
                            .map(p -> root.relativize(p).toString())
                            .forEach(names::add);
                }
            } else {
                try (JarFile jar = new JarFile(root.toFile())) {
                    jar.stream().map(e -> e.getName()).filter(n -> n.endsWith(".class")).forEach(names::add);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Class<?>> holders = new ArrayList<>();
        for (String n : names) {
            String cn = n.substring(0, n.length() - ".class".length()).replace('/', '.').replace('\\', '.');
            if (cn.endsWith("module-info") || cn.endsWith("package-info")) {
                continue;
            }
            try {
                Class<?> c = Class.forName(cn, false, anchor.getClassLoader());
                if (filter.test(c)) {
                    holders.add(c);
                }
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(cn, e);
            }
        }
        holders.sort(Comparator.comparing(Class::getName));
        return holders;
    }

    // ---------------------------------------------------------------- checking

    /** Checks the holders and fails (JUnit) with one line per mismatch; skips/fails without gcc per {@link Gcc}. */
    public static void assertMatchHeaders(List<Class<?>> holders) {
        List<Mismatch> ms = check(holders);
        if (!ms.isEmpty()) {
            org.junit.jupiter.api.Assertions.fail(report(ms));
        }
    }

    /**
     * One JUnit dynamic test per holder (checked in parallel up front), so a report names the holder
     * that disagrees. A holder whose header package is not installed is skipped with what to install,
     * or fails under {@code CI=true}, like a missing gcc.
     */
    public static Stream<DynamicTest> dynamicTests(List<Class<?>> holders) {
        Map<Class<?>, List<Mismatch>> results = checkEach(holders);
        return results.entrySet().stream().map(e -> DynamicTest.dynamicTest(
                holderName(e.getKey()) + " matches "
                        + String.join(", ", e.getKey().getAnnotation(CHeader.class).value()),
                () -> {
                    List<Mismatch> ms = e.getValue();
                    if (ms.size() == 1 && ms.get(0).what().equals(HEADER_MISSING)
                            && !"true".equals(System.getenv("CI"))) {
                        Assumptions.abort(ms.get(0).toString());
                    }
                    if (!ms.isEmpty()) {
                        org.junit.jupiter.api.Assertions.fail(report(ms));
                    }
                }));
    }

    private static String report(List<Mismatch> ms) {
        StringBuilder sb = new StringBuilder(ms.size() + " layout mismatch(es) against the C headers:\n");
        ms.forEach(m -> sb.append("  ").append(m).append('\n'));
        return sb.toString();
    }

    /** Checks the holders against gcc and returns all mismatches (empty when every item agrees). */
    public static List<Mismatch> check(List<Class<?>> holders) {
        List<Mismatch> all = new ArrayList<>();
        checkEach(holders).values().forEach(all::addAll);
        return all;
    }

    /** Checks the holders in parallel (one gcc per holder) and returns each one's mismatches, in order. */
    public static Map<Class<?>, List<Mismatch>> checkEach(List<Class<?>> holders) {
        String gcc = Gcc.require();
        int threads = Math.max(1, Math.min(holders.size(), Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            Map<Class<?>, Future<List<Mismatch>>> fs = new LinkedHashMap<>();
            for (Class<?> h : holders) {
                fs.put(h, pool.submit(() -> checkOne(gcc, h)));
            }
            Map<Class<?>, List<Mismatch>> out = new LinkedHashMap<>();
            for (Map.Entry<Class<?>, Future<List<Mismatch>>> f : fs.entrySet()) {
                out.put(f.getKey(), f.getValue().get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<Mismatch> checkOne(String gcc, Class<?> holder) throws Exception {
        String hname = holderName(holder);
        CHeader ch = holder.getAnnotation(CHeader.class);
        if (ch == null) {
            throw new IllegalArgumentException(holder + " is not annotated @CHeader");
        }
        List<Mismatch> out = new ArrayList<>();
        List<Item> items = new ArrayList<>();
        try {
            collectConstants(holder, items);
            collectStructs(holder, hname, items, out);
        } catch (ExceptionInInitializerError | NoClassDefFoundError e) {
            // A holder whose static initialiser throws (e.g. a bad layout path) is one mismatch, not an abort.
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            out.add(new Mismatch(hname, "", "", "class initialisation", "-", cause.toString()));
            return out;
        }

        Path dir = Files.createTempDirectory("layout-probe-");
        try {
            List<Item> live = new ArrayList<>(items);
            for (int round = 0; ; round++) {
                Map<Integer, Item> byLine = new HashMap<>();
                Files.writeString(dir.resolve("probe.c"), probe(ch.value(), live, byLine));
                Run cc = run(dir, List.of(gcc, "-std=gnu11", "-w", "-fmax-errors=0", "-o", "probe", "probe.c"));
                if (cc.code == 0) {
                    break;
                }
                Map<Item, String> failed = failedItems(cc.output, byLine);
                if (failed.isEmpty() || round == 3) {
                    String hint = headerHint(ch.value(), cc.output);
                    out.add(new Mismatch(hname, "", "", hint.contains("No such file") ? HEADER_MISSING
                            : "probe does not compile", "-", hint));
                    return out;
                }
                List<String> missingStructs = new ArrayList<>();
                for (Map.Entry<Item, String> e : failed.entrySet()) {
                    Item it = e.getKey();
                    if (it.kind == Kind.SIZE) {
                        missingStructs.add(it.struct);
                    }
                }
                for (Map.Entry<Item, String> e : failed.entrySet()) {
                    Item it = e.getKey();
                    boolean underMissingStruct = it.kind != Kind.CONSTANT && it.kind != Kind.STRING
                            && it.kind != Kind.SIZE && missingStructs.contains(it.struct);
                    if (!underMissingStruct) {
                        String java = it.kind == Kind.STRING ? '"' + it.text + '"'
                                : it.kind == Kind.CONSTANT ? fmt(it.java) : it.java.toString();
                        String why = it.kind == Kind.SIZE ? "type not defined: " + e.getValue()
                                : it.kind == Kind.CONSTANT ? "not defined as an integer constant: " + e.getValue()
                                : it.kind == Kind.STRING ? "not defined as a string literal: " + e.getValue()
                                : "no such member: " + e.getValue();
                        out.add(new Mismatch(it.owner, it.struct, it.field, it.what(), java, why));
                    }
                }
                live.removeIf(it -> failed.containsKey(it)
                        || (it.kind != Kind.CONSTANT && it.kind != Kind.STRING && missingStructs.contains(it.struct)));
            }
            Run probe = run(dir, List.of(dir.resolve("probe").toString()));
            if (probe.code != 0) {
                out.add(new Mismatch(hname, "", "", "probe failed", "-", probe.output));
                return out;
            }
            Map<Integer, BigInteger> values = new HashMap<>();
            Map<Integer, String> texts = new HashMap<>();
            for (String line : probe.output.split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                String[] p = line.split(" ", 3);
                if (p[1].equals("s")) {
                    texts.put(Integer.parseInt(p[0]), p.length > 2 ? p[2] : "");
                    continue;
                }
                BigInteger v = new BigInteger(p[1]);
                if (p[2].equals("0") && v.signum() < 0) {
                    v = v.add(BigInteger.ONE.shiftLeft(64)); // an unsigned C value above LLONG_MAX
                }
                values.put(Integer.parseInt(p[0]), v);
            }
            System.out.println("layout check: " + hname + ": " + (values.size() + texts.size()) + " of " + items.size()
                    + " items compared against " + String.join(", ", ch.value()));
            for (int i = 0; i < live.size(); i++) {
                Item it = live.get(i);
                if (!it.ifdefGuard && !values.containsKey(i) && !texts.containsKey(i)) {
                    // Compiled but printed nothing: never let a silent probe pass.
                    out.add(new Mismatch(it.owner, it.struct, it.field, it.what(), "-", "probe printed no value"));
                    continue;
                }
                if (it.kind == Kind.STRING) {
                    String ct = texts.get(i);
                    if (ct != null && !ct.equals(it.text)) {
                        out.add(new Mismatch(it.owner, "", it.field, it.what(), '"' + it.text + '"', '"' + ct + '"'));
                    }
                    continue;
                }
                BigInteger c = values.get(i);
                if (c == null) {
                    continue; // an #ifdef-guarded item whose macro the header lacks
                }
                if (!agrees(it, c)) {
                    String java = it.kind == Kind.CONSTANT ? fmt(it.java) : it.java.toString();
                    String cv = it.kind == Kind.CONSTANT ? fmt(c) : c.toString();
                    out.add(new Mismatch(it.owner, it.struct, it.field, it.what(), java, cv));
                }
            }
            return out;
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** A Java signed field may hold a C unsigned value of the same width (e.g. ioctl numbers in an int). */
    private static boolean agrees(Item it, BigInteger c) {
        if (it.java.equals(c)) {
            return true;
        }
        if (it.kind != Kind.CONSTANT || it.java.signum() >= 0) {
            return false;
        }
        return it.java.add(BigInteger.ONE.shiftLeft(it.javaBits)).equals(c);
    }

    private static String fmt(BigInteger v) {
        return v.signum() < 0 ? v.toString() : v + " (0x" + v.toString(16) + ")";
    }

    private static String holderName(Class<?> c) {
        String n = c.getName();
        return n.substring(n.lastIndexOf('.') + 1).replace('$', '.');
    }

    private static void collectConstants(Class<?> holder, List<Item> items) throws IllegalAccessException {
        for (Field f : holder.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isPublic(mod) || !Modifier.isStatic(mod) || !Modifier.isFinal(mod) || f.isSynthetic()) {
                continue;
            }
            Class<?> t = f.getType();
            int bits;
            BigInteger v;
            if (t == int.class) {
                bits = 32;
                v = BigInteger.valueOf(f.getInt(null));
            } else if (t == long.class) {
                bits = 64;
                v = BigInteger.valueOf(f.getLong(null));
            } else if (t == short.class) {
                bits = 16;
                v = BigInteger.valueOf(f.getShort(null));
            } else if (t == byte.class) {
                bits = 8;
                v = BigInteger.valueOf(f.getByte(null));
            } else if (t == char.class) {
                bits = 16;
                v = BigInteger.valueOf(f.getChar(null));
            } else if (t == String.class) {
                items.add(new Item(holderName(holder), Kind.STRING, "", f.getName(), f.getName(), BigInteger.ZERO, 0,
                        f.isAnnotationPresent(NotInHeader.class), (String) f.get(null)));
                continue;
            } else {
                continue; // arrays, layouts: Java-side helpers, nothing to compare
            }
            boolean notInHeader = f.isAnnotationPresent(NotInHeader.class);
            items.add(new Item(holderName(holder), Kind.CONSTANT, "", f.getName(), f.getName(), v, bits, notInHeader));
        }
    }

    private static void collectStructs(Class<?> c, String hname, List<Item> items, List<Mismatch> out)
            throws IllegalAccessException {
        for (Class<?> n : c.getDeclaredClasses()) {
            if (n.isAnnotationPresent(NotInHeader.class)) {
                continue;
            }
            Field lf;
            try {
                lf = n.getDeclaredField("LAYOUT");
            } catch (NoSuchFieldException e) {
                lf = null;
            }
            if (lf != null && Modifier.isStatic(lf.getModifiers())
                    && GroupLayout.class.isAssignableFrom(lf.getType())) {
                lf.setAccessible(true);
                GroupLayout g = (GroupLayout) lf.get(null);
                String cls = holderName(n);
                if (g.name().isEmpty()) {
                    out.add(new Mismatch(cls, "", "LAYOUT", "name", "(none)", "the C struct tag"));
                } else {
                    String type = n.isAnnotationPresent(CTypedef.class) ? g.name().get()
                            : (g instanceof UnionLayout ? "union " : "struct ") + g.name().get();
                    items.add(new Item(cls, Kind.SIZE, type, "", "sizeof(" + type + ")",
                            BigInteger.valueOf(g.byteSize()), 64, false));
                    items.add(new Item(cls, Kind.ALIGN, type, "", "_Alignof(" + type + ")",
                            BigInteger.valueOf(g.byteAlignment()), 64, false));
                    walk(type, g, 0, "", items, cls, out);
                }
            }
            collectStructs(n, hname, items, out);
        }
    }

    private static void walk(String type, GroupLayout g, long base, String prefix, List<Item> items, String cls,
                             List<Mismatch> out) {
        long off = 0;
        for (MemoryLayout m : g.memberLayouts()) {
            long at = base + (g instanceof StructLayout ? off : 0);
            if (g instanceof StructLayout) {
                off += m.byteSize();
            }
            if (m instanceof PaddingLayout) {
                continue;
            }
            if (m.name().isEmpty()) {
                if (m instanceof GroupLayout mg) {
                    walk(type, mg, at, prefix, items, cls, out); // a C anonymous struct/union member
                } else {
                    out.add(new Mismatch(cls, type, prefix + "(unnamed @" + at + ")", "name", "(none)",
                            "name it after the C member, or make it pad()"));
                }
                continue;
            }
            String path = prefix + m.name().get();
            items.add(new Item(cls, Kind.OFFSET, type, path, "offsetof(" + type + ", " + path + ")",
                    BigInteger.valueOf(at), 64, false));
            boolean flexible = m instanceof SequenceLayout s && s.elementCount() == 0;
            if (!flexible) {
                items.add(new Item(cls, Kind.MEMBER_SIZE, type, path, "sizeof(((" + type + " *)0)->" + path + ")",
                        BigInteger.valueOf(m.byteSize()), 64, false));
            }
            if (m instanceof GroupLayout mg) {
                walk(type, mg, at, path + ".", items, cls, out);
            } else if (m instanceof SequenceLayout s && s.elementCount() > 0
                    && s.elementLayout() instanceof GroupLayout eg) {
                walk(type, eg, at, path + "[0].", items, cls, out);
            }
        }
    }

    /**
     * Every named member of {@code layout} as the checker sees it: C member designator (anonymous
     * groups flattened, {@code outer.inner}, {@code array[0].inner}) to {@code {offset, size}}.
     * For tests that compare a layout with a transcribed table when no header exists.
     */
    public static Map<String, long[]> members(GroupLayout layout) {
        List<Item> items = new ArrayList<>();
        List<Mismatch> unnamed = new ArrayList<>();
        walk("", layout, 0, "", items, "", unnamed);
        if (!unnamed.isEmpty()) {
            throw new IllegalArgumentException("unnamed non-padding members: " + unnamed);
        }
        Map<String, long[]> m = new LinkedHashMap<>();
        for (Item it : items) {
            long[] e = m.computeIfAbsent(it.field, k -> new long[] {-1, -1});
            if (it.kind == Kind.OFFSET) {
                e[0] = it.java.longValue();
            } else {
                e[1] = it.java.longValue();
            }
        }
        return m;
    }

    // ---------------------------------------------------------------- probe and gcc

    private static String probe(String[] headers, List<Item> items, Map<Integer, Item> byLine) {
        List<String> lines = new ArrayList<>();
        lines.add("#define _GNU_SOURCE 1"); // holders mirror everything Linux offers, as glibc does under it
        lines.add("#include <stddef.h>");
        lines.add("#include <stdio.h>");
        for (String h : headers) {
            lines.add("#include <" + h + ">");
        }
        // Value bits as signed 64-bit plus the sign, so Java can tell 2^64-1 from -1.
        lines.add("#define P(i, v) printf(\"%d %lld %d\\n\", (i), (long long)(v), (v) < 0)");
        lines.add("int main(void) {");
        for (int i = 0; i < items.size(); i++) {
            Item it = items.get(i);
            if (it.ifdefGuard) {
                lines.add("#ifdef " + it.cExpr);
            }
            // "" NAME only compiles when NAME is a string literal macro.
            lines.add(it.kind == Kind.STRING ? "printf(\"%d s %s\\n\", " + i + ", \"\" " + it.cExpr + ");"
                    : "P(" + i + ", " + it.cExpr + ");");
            byLine.put(lines.size(), it);
            if (it.ifdefGuard) {
                lines.add("#endif");
            }
        }
        lines.add("return 0;");
        lines.add("}");
        return String.join("\n", lines) + "\n";
    }

    /** Items whose probe line gcc complained about (directly or through a macro expansion note). */
    private static Map<Item, String> failedItems(String gccOutput, Map<Integer, Item> byLine) {
        Map<Item, String> failed = new LinkedHashMap<>();
        String lastError = "";
        for (String line : gccOutput.split("\n")) {
            Matcher e = ERROR.matcher(line);
            if (e.matches()) {
                lastError = e.group(1);
            }
            Matcher d = DIAG.matcher(line);
            if (d.matches()) {
                Item it = byLine.get(Integer.parseInt(d.group(1)));
                if (it != null) {
                    failed.putIfAbsent(it, d.group(2).contains("error") ? d.group(3) : lastError);
                }
            }
        }
        return failed;
    }

    private static String headerHint(String[] headers, String gccOutput) {
        String first = gccOutput.lines().filter(l -> l.contains("error")).findFirst().orElse(gccOutput.strip());
        if (first.contains("No such file")) {
            String pkg = first.contains("nvme/") ? "libnvme-dev" : "linux-libc-dev";
            return first + " (install: apt-get install " + pkg + "; headers: " + String.join(", ", headers) + ")";
        }
        return first;
    }

    private record Run(int code, String output) {
    }

    private static Run run(Path dir, List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("LC_ALL", "C"); // plain quotes in gcc's diagnostics
        Process p = pb.start();
        byte[] bytes = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + cmd);
        }
        return new Run(p.exitValue(), new String(bytes, StandardCharsets.UTF_8));
    }
}
