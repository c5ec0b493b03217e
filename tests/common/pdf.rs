//! The PDF tools the certificate and record tests read PDFs with: poppler-utils (`pdftotext`,
//! `pdfdetach`), zbar, qpdf, and veraPDF from Maven Central for PDF/A-3 conformance.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Fails naming the tool and how to install it (`.ci/run` installs them all).
pub fn require(tool: &str, install: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{tool}` is needed by the certificate tests: install it with `{install}` (bash .ci/run does)"
    );
}

pub fn run_ok(c: &mut Command) -> Vec<u8> {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// veraPDF 1.28.2 from Maven Central (cached under ~/.cache/tiezheng/verapdf), driven by
/// `tests/verapdf/Validate.java`: the output line per file.
pub fn verapdf(pdfs: &[&Path]) -> (bool, String) {
    require("mvn", "apt-get install maven");
    require("javac", "apt-get install openjdk-17-jdk-headless");
    let cache = PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
        .join(".cache/tiezheng/verapdf");
    let src = super::repo_root().join("tests/verapdf");
    let lib = cache.join("lib");
    if !lib.join("validation-model-1.28.2.jar").is_file() {
        run_ok(
            Command::new("mvn")
                .args(["-B", "-q", "-f"])
                .arg(src.join("pom.xml"))
                .arg("dependency:copy-dependencies")
                .arg(format!("-DoutputDirectory={}", lib.display())),
        );
    }
    let classes = cache.join("classes");
    let cp = format!("{}/*", lib.display());
    run_ok(
        Command::new("javac")
            .args(["-cp", &cp, "-d"])
            .arg(&classes)
            .arg(src.join("Validate.java")),
    );
    let out = Command::new("java")
        .args(["-cp", &format!("{}:{cp}", classes.display()), "Validate"])
        .args(pdfs)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
