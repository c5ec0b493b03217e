// Validates PDF files as PDF/A-3u with veraPDF's greenfield parser; prints one line per file
// ("compliant FILE" or "NOT compliant FILE" followed by the failed rules) and exits 1 if any fails.
import java.io.FileInputStream;
import java.io.InputStream;
import org.verapdf.gf.foundry.VeraGreenfieldFoundryProvider;
import org.verapdf.pdfa.Foundries;
import org.verapdf.pdfa.PDFAParser;
import org.verapdf.pdfa.PDFAValidator;
import org.verapdf.pdfa.flavours.PDFAFlavour;
import org.verapdf.pdfa.results.TestAssertion;
import org.verapdf.pdfa.results.ValidationResult;

public class Validate {
    public static void main(String[] args) throws Exception {
        VeraGreenfieldFoundryProvider.initialise();
        boolean ok = true;
        for (String file : args) {
            try (InputStream in = new FileInputStream(file);
                 PDFAParser parser = Foundries.defaultInstance().createParser(in, PDFAFlavour.PDFA_3_U)) {
                PDFAValidator validator =
                    Foundries.defaultInstance().createValidator(PDFAFlavour.PDFA_3_U, false);
                ValidationResult result = validator.validate(parser);
                if (result.isCompliant()) {
                    System.out.println("compliant PDF/A-3u " + file);
                } else {
                    ok = false;
                    System.out.println("NOT compliant PDF/A-3u " + file);
                    for (TestAssertion a : result.getTestAssertions()) {
                        if (a.getStatus() != TestAssertion.Status.PASSED) {
                            System.out.println("  " + a.getRuleId().getClause() + "-" + a.getRuleId().getTestNumber()
                                + ": " + a.getMessage());
                        }
                    }
                }
            }
        }
        System.exit(ok ? 0 : 1);
    }
}
