//! The README's main command, `tiezheng demo`, runs end to end on embedded defaults.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

#[test]
fn demo_runs_end_to_end() {
    let out = common::tiezheng()
        .arg("demo")
        .current_dir(common::repo_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let captures = common::repo_expected().len();
    assert!(
        stdout.contains(&format!("{} proofs receipted", captures + 1)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{} receipts verified with the notary's SM2 key",
            captures + 1
        )),
        "{stdout}"
    );
    assert!(stdout.contains("viewed"), "{stdout}");
    assert!(
        stdout.contains(
            "笔录 collection record and inventory (电子数据现场提取笔录 · 固定清单) of 17 files"
        ),
        "{stdout}"
    );
    // The record PDF reads like a certificate: its text, the one attached certificate, and
    // PDF/A-3 as veraPDF validates it.
    let record_pdf = stdout
        .lines()
        .find(|l| l.contains("笔录"))
        .and_then(|l| l.rsplit("verified: ").next())
        .map(|p| std::path::PathBuf::from(p.trim()))
        .expect("the record PDF's path");
    common::pdf::require("pdftotext", "apt-get install poppler-utils");
    let text = String::from_utf8(common::pdf::run_ok(
        std::process::Command::new("pdftotext")
            .arg(&record_pdf)
            .arg("-"),
    ))
    .unwrap();
    for want in [
        "电子数据现场提取笔录",
        "电子数据固定清单",
        "全程录像",
        "bodycam_5s.mov",
    ] {
        assert!(text.contains(want), "{want} not in the record PDF:\n{text}");
    }
    let attached = String::from_utf8(common::pdf::run_ok(
        std::process::Command::new("pdfdetach")
            .arg("-list")
            .arg(&record_pdf),
    ))
    .unwrap();
    assert!(
        attached.starts_with("1 embedded files") && attached.contains("certificate-"),
        "{attached}"
    );
    let (ok, report) = common::pdf::verapdf(&[&record_pdf]);
    assert!(
        ok && report.contains("compliant PDF/A-3u"),
        "veraPDF: {report}"
    );
    // The appraisal: the opinion PDF the court fetched reads like a certificate and verifies
    // again from the files it wrote.
    let opinion = stdout
        .lines()
        .find(|l| l.contains("鉴定意见书"))
        .and_then(|l| l.rsplit("verified: ").next())
        .map(|p| std::path::PathBuf::from(p.trim()))
        .expect("the opinion's path");
    let text = String::from_utf8(common::pdf::run_ok(
        std::process::Command::new("pdftotext")
            .arg(&opinion)
            .arg("-"),
    ))
    .unwrap();
    for want in [
        "司法鉴定意见书",
        "Judicial Appraisal Opinion",
        "鉴定意见 Finding",
        "复核",
    ] {
        assert!(
            text.contains(want),
            "{want} not in the opinion PDF:\n{text}"
        );
    }
    let attached = String::from_utf8(common::pdf::run_ok(
        std::process::Command::new("pdfdetach")
            .arg("-list")
            .arg(&opinion),
    ))
    .unwrap();
    assert!(
        attached.starts_with("1 embedded files") && attached.contains("appraisal-opinion-"),
        "{attached}"
    );
    let (ok, report) = common::pdf::verapdf(&[&opinion]);
    assert!(
        ok && report.contains("compliant PDF/A-3u"),
        "veraPDF: {report}"
    );
    let out = common::run(&[
        "verify",
        opinion.to_str().unwrap(),
        "--policy",
        opinion.with_extension("policy.json").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Captured under the administrative profile, two officers, holder and witness; the
    // certificate states 取证依据 with every requirement met.
    assert!(
        stdout.contains(
            "取证依据 forensic procedure: 行政执法现场检查取证 (cn.admin-penalty.onsite.2021 v1), 9 requirements, 0 not met"
        ),
        "{stdout}"
    );
}
