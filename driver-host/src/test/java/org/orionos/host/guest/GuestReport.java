package org.orionos.host.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/** The test cases in the JUnit XML reports (the legacy "TEST-*.xml" format) the guest's launcher wrote. */
final class GuestReport {

    enum Outcome { PASSED, FAILED, SKIPPED }

    /**
     * One guest test case.
     *
     * @param className  fully qualified test class
     * @param name       the test's display name
     * @param outcome    how it ended
     * @param message    the failure or skip message ("" if none)
     * @param detail     the failure's stack trace as the guest printed it
     * @param output     what the test wrote to stdout/stderr (captured by the guest's launcher)
     * @param seconds    the guest's timing of the test
     */
    record Case(String className, String name, Outcome outcome, String message, String detail, String output, double seconds) {
    }

    private GuestReport() {
    }

    static List<Case> read(Path reportsDir) throws IOException {
        List<Case> cases = new ArrayList<>();
        if (!Files.isDirectory(reportsDir)) {
            return cases;
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(reportsDir)) {
            files = s.filter(p -> p.getFileName().toString().matches("TEST-.*\\.xml")).sorted().toList();
        }
        for (Path f : files) {
            cases.addAll(parse(f));
        }
        return cases;
    }

    private static List<Case> parse(Path file) throws IOException {
        Element root;
        try {
            DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
            dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            root = dbf.newDocumentBuilder().parse(file.toFile()).getDocumentElement();
        } catch (ParserConfigurationException | SAXException e) {
            throw new IOException("guest report " + file + " is not valid JUnit XML: " + e.getMessage(), e);
        }
        List<Case> cases = new ArrayList<>();
        NodeList tcs = root.getElementsByTagName("testcase");
        for (int i = 0; i < tcs.getLength(); i++) {
            Element tc = (Element) tcs.item(i);
            Outcome outcome = Outcome.PASSED;
            String message = "";
            String detail = "";
            StringBuilder output = new StringBuilder();
            for (Node n = tc.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (!(n instanceof Element e)) {
                    continue;
                }
                switch (e.getTagName()) {
                    case "failure", "error" -> {
                        outcome = Outcome.FAILED;
                        message = e.getAttribute("message");
                        detail = e.getTextContent();
                    }
                    case "skipped" -> {
                        if (outcome != Outcome.FAILED) {
                            outcome = Outcome.SKIPPED;
                            message = e.getAttribute("message").isEmpty() ? e.getTextContent() : e.getAttribute("message");
                        }
                    }
                    case "system-out", "system-err" -> output.append(e.getTextContent());
                    default -> { }
                }
            }
            String time = tc.getAttribute("time");
            cases.add(new Case(tc.getAttribute("classname"), tc.getAttribute("name"), outcome, message, detail,
                    output.toString(), time.isEmpty() ? 0 : Double.parseDouble(time.replace(",", ""))));
        }
        return cases;
    }
}
