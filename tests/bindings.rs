//! The foreign-language bindings, tested the way app developers use them: the host library is
//! built, Kotlin and Python bindings are generated with the workspace's `uniffi-bindgen`, and
//! the generated code runs a capture → sync flow against a real notary — Python with the
//! standard library, Kotlin on the host JVM with Maven (JNA, coroutines, JUnit 5), together with
//! the Android sample's platform-free logic. Needs `python3`, a JDK 17 and `mvn`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Generates the bindings once per test run; returns (output dir, host library path).
fn generated() -> &'static (PathBuf, PathBuf) {
    static GEN: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    GEN.get_or_init(|| {
        common::require_tool("python3", "python3", "the binding tests");
        let root = common::repo_root();
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bindings");
        let o = Command::new("bash")
            .arg(root.join("bindings/scripts/generate.sh"))
            .arg("debug")
            .arg(&out)
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "generating the bindings failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let lib = PathBuf::from(
            String::from_utf8(o.stdout)
                .unwrap()
                .lines()
                .last()
                .unwrap()
                .trim(),
        );
        assert!(lib.exists(), "{}", lib.display());
        (out, lib)
    })
}

/// Swift cannot be compiled on this Linux host; its generated sources must exist and expose the
/// API (they are compiled by bindings/scripts/build-xcframework.sh on macOS).
#[test]
fn swift_bindings_are_generated() {
    let (out, _) = generated();
    let swift = std::fs::read_to_string(out.join("swift/TiezhengFFI.swift")).unwrap();
    let squashed = swift.split_whitespace().collect::<Vec<_>>().join(" ");
    for api in [
        "open class Device",
        "func capturePhoto(",
        "func sync(",
        "public protocol KeyVault",
        "public enum TiezhengError",
    ] {
        assert!(squashed.contains(api), "generated Swift lacks `{api}`");
    }
    assert!(
        out.join("swift/TiezhengFFIC.h").exists() && out.join("swift/module.modulemap").exists()
    );
}

#[test]
fn python_bindings_capture_and_sync() {
    let (out, _) = generated();
    let root = common::repo_root();
    let o = Command::new("python3")
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(root.join("bindings/tests/python"))
        .env("PYTHONPATH", out.join("python"))
        .env("TIEZHENG_BIN", env!("CARGO_BIN_EXE_tiezheng"))
        .env("TIEZHENG_CORPUS", common::corpus_dir())
        .output()
        .expect("python3 is needed for the Python binding tests");
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "Python binding tests failed:\n{log}");
    assert!(log.contains("OK"), "{log}");
}

#[test]
fn kotlin_bindings_on_the_host_jvm() {
    let (out, lib) = generated();
    let needed_for = "the Kotlin binding tests";
    common::require_tool("javac", "openjdk-17-jdk-headless", needed_for);
    common::require_tool("mvn", "maven", needed_for);
    let root = common::repo_root();
    let o = Command::new("mvn")
        .args(["-B", "-q", "-f"])
        .arg(root.join("bindings/tests/kotlin-jvm/pom.xml"))
        .arg("test")
        .arg(format!("-Dgenerated.dir={}", out.join("kotlin").display()))
        .arg(format!("-Dnative.dir={}", lib.parent().unwrap().display()))
        .arg(format!("-Dtiezheng.bin={}", env!("CARGO_BIN_EXE_tiezheng")))
        .arg(format!(
            "-Dtiezheng.corpus={}",
            common::corpus_dir().display()
        ))
        .output()
        .expect("mvn (Maven) and a JDK 17 are needed for the Kotlin binding tests");
    let reports = root.join("bindings/tests/kotlin-jvm/target/surefire-reports");
    let summary: String = std::fs::read_dir(&reports)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "txt"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        o.status.success(),
        "Kotlin binding tests failed:\n{}\n{}\n{summary}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(summary.contains("Failures: 0, Errors: 0"), "{summary}");
    eprintln!("{summary}");
}
