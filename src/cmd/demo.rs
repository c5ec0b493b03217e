//! `tiezheng demo`: the whole flow on a laptop, on embedded defaults, in a temporary directory.
//!
//! It starts a notary (SQLite, local media store), has an administrator issue an enrolment
//! code, sets up and enrols an officer's device, captures the corpus photos, video and audio
//! as the officer would (streaming the recordings), closes the enforcement session, syncs, and
//! shows the signed receipts and the custody log a court would read, verifies the first
//! proof's offline bundle, and ends by writing the first proof's certificate PDF and verifying
//! it with its file, then runs a judicial appraisal of that file online (commission to a
//! delivered, reviewed opinion) and verifies the opinion.

use std::io::{self, BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};

use anyhow::{Context as _, bail};
use serde_json::json;
use tiezheng_protocol::manifest::{
    CaseRecord, Decimal, ItemKind, LocationFix, LocationProvider, PartyRecord, TimeSync,
};
use tiezheng_protocol::notary::SignedReceipt;
use tiezheng_protocol::{Sm2PublicKey, Timestamp};
use tiezheng_sdk::capture::{CaptureContext, MonotonicClock, SegmentPolicy};
use tiezheng_sdk::client::{NotaryClient, SyncEvent};
use tiezheng_sdk::device::{Device, DeviceSetup};
use tiezheng_sdk::media::MediaType;
use tiezheng_sdk::queue::Queue;
use tiezheng_sdk::vault::PassphraseVault;

use super::notary::{AdminConn, admin_call, runtime};

/// Arguments of `tiezheng demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The media to capture [default: the repository's sample media, `tests/corpus`].
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// Keep the notary's and the device's files here instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Keep the notary running at the end and print the addresses of its verification portal
    /// and appraiser workspace (with a token granted the demo case) until Ctrl-C.
    #[arg(long)]
    serve: bool,
}

/// The notary process, stopped when dropped.
struct NotaryProcess(Child);

impl Drop for NotaryProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let corpus = match &args.corpus {
        Some(dir) => dir.clone(),
        None => sample_media()?,
    };
    let files = collect_media(&corpus)?;
    let temp;
    let work: &Path = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d
        }
        None => {
            temp = TempDir::new()?;
            &temp.0
        }
    };
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "Tiezheng demo — everything below runs on this machine, in {}",
        work.display()
    )?;

    // 1. The notary, serving the court and the appraisal institution of step 8.
    let parties = super::demo_appraisal::Parties::new()?;
    let parties_file = work.join("judicial-parties.json");
    parties.write(&parties_file)?;
    let admin_token = format!("tza_demo_{}", hex_random());
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(work.join("notary"))
        .env("TIEZHENG_NOTARY_ADMIN_TOKEN", &admin_token)
        .env("TIEZHENG_LOG", "warn")
        .env("TIEZHENG_NOTARY_BATCH_MAX_MS", "200")
        .env("TIEZHENG_NOTARY_CUSTODY_ANCHOR_MS", "500")
        .env("TIEZHENG_NOTARY_JUDICIAL_PARTIES_FILE", &parties_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the notary")?;
    let mut line = String::new();
    io::BufReader::new(child.stdout.take().context("notary stdout")?).read_line(&mut line)?;
    let _notary = NotaryProcess(child);
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .context("the notary did not start")?
        .to_owned();
    writeln!(
        out,
        "\n1. Notary running at {url} (SQLite, write-once media store, SM2 key generated)"
    )?;

    // 2. The administrator issues an enrolment code; the officer's device enrols.
    let conn = AdminConn {
        notary: url.clone(),
        token: admin_token.clone(),
    };
    let code = admin_call(
        &conn,
        "/v1/enrolment-codes",
        &json!({"officer_id": "310101"}),
    )?;
    let code = code
        .get("code")
        .and_then(|c| c.as_str())
        .context("no code in the answer")?
        .to_owned();
    let device_dir = work.join("device");
    let vault = PassphraseVault::new("demo-pin-246810");
    Device::init(
        &device_dir,
        DeviceSetup {
            profile: Some(DEMO_PROFILE.into()),
            officers: vec!["310101".into(), "310102".into()],
            model: "demo phone".into(),
            os: std::env::consts::OS.into(),
        },
        &vault,
    )?;
    // Each officer's own key, on the device, under the officer's own PIN.
    let officers = [
        ("310101", "王强", "沪执0310101"),
        ("310102", "李明", "沪执0310102"),
    ];
    let officer_vault = |id: &str| PassphraseVault::new(format!("demo-officer-{id}"));
    for (id, name, badge) in officers {
        Device::open(&device_dir)?.add_officer(
            tiezheng_protocol::officer::OfficerIdentity {
                officer_id: id.into(),
                name: name.into(),
                badge_number: badge.into(),
                unit: "上海市浦东新区城市管理行政执法局".into(),
            },
            &officer_vault(id),
        )?;
    }
    let device = Device::open(&device_dir)?.unlock(&vault)?;
    let client = NotaryClient::new(&url)?;
    let rt = runtime()?;
    let enrolment = rt.block_on(client.enrol(&device, &code))?;
    let notary_key = Sm2PublicKey::from_hex(&enrolment.notary_public_key)?;
    writeln!(
        out,
        "\n2. Device enrolled with one-time code {code}: enrolment {} for officer 310101",
        enrolment.certificate.certificate.enrolment_id
    )?;
    writeln!(
        out,
        "   device key {} (SM2, sealed under the officer's PIN)",
        device.public_key().key_id()
    )?;
    // Each officer unlocks their own key and the notary binds it to them (a code per officer).
    for (id, name, badge) in officers {
        device.unlock_officer(id, &officer_vault(id))?;
        let code = admin_call(&conn, "/v1/enrolment-codes", &json!({"officer_id": id}))?;
        let code = code
            .get("code")
            .and_then(|c| c.as_str())
            .context("no code in the answer")?
            .to_owned();
        let credential = rt.block_on(client.enrol_officer(&device, id, &code))?;
        writeln!(
            out,
            "   officer {id} {name} (执法证号 {badge}): own key {} bound by the notary",
            credential.certificate.key_id
        )?;
    }

    // 3. Captures, as the officer takes them.
    writeln!(
        out,
        "\n3. Capture: hash at the moment of recording, read metadata, sign, queue"
    )?;
    writeln!(out, "   {} files of {}", files.len(), corpus.display())?;
    let opened = Timestamp::now_utc();
    let profile = tiezheng_protocol::profile::find(DEMO_PROFILE)?;
    writeln!(
        out,
        "   取证依据 forensic profile: {} ({} v{}), two officers, holder and witness",
        profile.profile.title_zh, profile.profile.id, profile.profile.version
    )?;
    let ctx = || CaptureContext {
        profile: None,
        reasons: Default::default(),
        case: CaseRecord {
            reference: "沪浦-2026-DEMO".into(),
            cause: Some("占道经营 (street obstruction)".into()),
            object: Some("unlicensed stall".into()),
            description: Some("scene photos, body-camera video and an interview recording".into()),
            method: "on-site capture with the Tiezheng SDK".into(),
            collectors: vec!["310101".into(), "310102".into()],
            holder: Some(PartyRecord {
                name: Some("张三".into()),
                note: Some("refused to sign".into()),
            }),
            witness: Some(PartyRecord {
                name: Some("李四 (market manager)".into()),
                note: None,
            }),
        },
        device_time: Timestamp::from_unix_ms(Timestamp::now_utc().unix_ms(), 8 * 60),
        monotonic_ms: None,
        gnss_time: None,
        last_time_sync: Some(TimeSync {
            at: Timestamp::from_unix_ms(opened.unix_ms() - 60_000, 8 * 60),
            source: "ntp:ntp.ntsc.ac.cn".into(),
            offset_ms: 37,
        }),
        os_fix: demo_fix(),
    };
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("file")
            .to_owned();
        let mut head = [0u8; 16];
        let n = std::fs::File::open(path)?.read(&mut head)?;
        let media = MediaType::sniff(head.get(..n).unwrap_or_default());
        let outcome = if media.kind() == ItemKind::Photo {
            device.capture_photo(&name, &std::fs::read(path)?, &ctx())?
        } else {
            let mut rec = device.start_recording(
                &name,
                SegmentPolicy {
                    max_bytes: 512 * 1024,
                    max_ms: 2000,
                },
                &ctx(),
                Box::new(MonotonicClock::default()),
            )?;
            let mut f = std::fs::File::open(path)?;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                rec.write(buf.get(..n).unwrap_or_default())?;
            }
            rec.finish()?
        };
        let item = outcome.proof.manifest.items.first().context("item")?;
        let codes: Vec<&str> = item
            .findings
            .iter()
            .map(|f| f.code.as_str())
            .filter(|c| *c != "gps_distance")
            .collect();
        let segments = item
            .recording
            .as_ref()
            .map(|r| format!(", {} segments", r.segments.len()))
            .unwrap_or_default();
        writeln!(
            out,
            "   #{:<2} {:<28} {:>9} B{segments}  findings: {}",
            outcome.proof.manifest.device_seq,
            name,
            item.bytes,
            if codes.is_empty() {
                "none".into()
            } else {
                codes.join(", ")
            }
        )?;
    }
    // The officers close the session with the collection record and its inventory: the holder
    // refused to sign; the witness signed on screen; the body camera filmed it all.
    let record = tiezheng_sdk::capture::RecordInput {
        place: "上海市浦东新区 demo market, stall 12".into(),
        process: "Two officers showed their credentials, photographed the stall and recorded video and an interview on the enforcement phone; each file was hashed and signed as it was captured.".into(),
        original: tiezheng_protocol::manifest::OriginalMedium {
            description: "the capturing phone (demo phone); the SDK stores each file unmodified".into(),
            seized: false,
            kept_at: None,
            not_seized_reason: Some("the phone stays in service; the originals are deposited with the notary".into()),
        },
        holder: tiezheng_sdk::capture::PartyConfirmation::Refused("the holder 张三 refused to sign".into()),
        witness: tiezheng_sdk::capture::PartyConfirmation::Signature(WITNESS_SIGNATURE_PNG.to_vec()),
        // The body camera filmed the whole collection (全程录像).
        process_recording: Some("bodycam_5s.mov".into()),
    };
    let summary = device.close_session_with_record(opened, &ctx(), &record)?;
    writeln!(
        out,
        "   #{:<2} session summary listing {} captures",
        summary.proof.manifest.device_seq,
        summary
            .proof
            .manifest
            .session_summary
            .as_ref()
            .map_or(0, |s| s.manifests.len())
    )?;

    // 4. Sync: proofs and media to the notary, signed receipts back.
    writeln!(
        out,
        "\n4. Sync with the notary (each proof stored before its receipt; media verified on arrival)"
    )?;
    let report = rt.block_on(client.sync(&device_dir, |e| {
        if let SyncEvent::Retrying { attempt, reason } = e {
            let _ = writeln!(io::stderr(), "   retry {attempt}: {reason}");
        }
    }))?;
    writeln!(
        out,
        "   {} proofs receipted, {} media bytes uploaded, {} pending",
        report.acknowledged, report.media_bytes, report.pending
    )?;
    let queue = Queue::open(&device_dir)?;
    let mut verified = 0;
    for entry in queue.entries()? {
        let receipt_path = entry
            .path
            .to_string_lossy()
            .replace(".proof.json", ".receipt.json");
        let receipt: SignedReceipt = serde_json::from_slice(&std::fs::read(&receipt_path)?)?;
        receipt.verify(&notary_key)?;
        verified += 1;
        if entry.device_seq == 1 {
            writeln!(
                out,
                "   receipt for #1: proof {} received {} signed by notary {}",
                receipt.receipt.proof_sm3,
                receipt.receipt.received_at,
                receipt.receipt.notary_key_id
            )?;
        }
    }
    writeln!(
        out,
        "   {verified} receipts verified with the notary's SM2 key"
    )?;
    if report.pending > 0 || verified != report.acknowledged {
        bail!("not every proof was receipted");
    }

    // 5. A court reads the evidence.
    let court = admin_call(
        &conn,
        "/v1/tokens",
        &json!({"role": "court", "subject": "demo court", "ttl_seconds": 3600}),
    )?;
    let court_token = court
        .get("token")
        .and_then(|t| t.as_str())
        .context("court token")?
        .to_owned();
    let first = queue.entries()?.into_iter().next().context("no proof")?;
    let proof_sm3 = tiezheng_protocol::Hash32::sm3(&std::fs::read(&first.path)?);
    let view: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/v1/proofs/{proof_sm3}"))
            .bearer_auth(&court_token)
            .send()
            .await?
            .json()
            .await
    })?;
    writeln!(
        out,
        "\n5. A court reads proof #1; the custody log (hash-chained) shows:"
    )?;
    for e in view
        .get("custody")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        writeln!(
            out,
            "   {:>3}  {:<13} by {}",
            e.get("seq").and_then(|v| v.as_i64()).unwrap_or(0),
            e.get("event").and_then(|v| v.as_str()).unwrap_or("?"),
            e.get("actor").and_then(|v| v.as_str()).unwrap_or("?")
        )?;
    }
    // 6. The offline bundle: batch, anchor, cosigned checkpoint; verified with no network.
    writeln!(
        out,
        "\n6. The court exports the offline bundle of proof #1 and verifies it against the file"
    )?;
    let mut bundle = None;
    for _ in 0..100 {
        let resp = rt.block_on(async {
            reqwest::Client::new()
                .get(format!("{url}/v1/proofs/{proof_sm3}/bundle"))
                .bearer_auth(&court_token)
                .send()
                .await
        })?;
        if resp.status().is_success() {
            bundle = Some(rt.block_on(resp.json::<tiezheng_protocol::bundle::Bundle>())?);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let bundle = bundle.context("proof #1 was not anchored in time")?;
    let policy: tiezheng_protocol::bundle::Policy = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/v1/ledger/policy"))
            .send()
            .await?
            .json()
            .await
    })?;
    let first_file = files.first().context("no file")?;
    let media = tiezheng_sdk::files::hash_media_file(
        first_file,
        &tiezheng_protocol::verify::segment_ranges(&bundle.proof.manifest),
        |_, _| {},
    )?;
    let report = tiezheng_protocol::verify::verify_bundle(&bundle, Some(&media), &policy)
        .map_err(tiezheng_protocol::bundle::BundleError::from)
        .and_then(|v| v.summary())
        .map_err(|e| anyhow::anyhow!("bundle invalid: {e}"))?;
    writeln!(
        out,
        "   batch {} anchored at ledger height {}; checkpoint {} cosigned by {}",
        report.batch_seq,
        report.anchor_height,
        report.checkpoint_height,
        report.cosigners.join(", ")
    )?;
    writeln!(
        out,
        "   media, proof, receipt, leaf, batch, anchor, checkpoint: all valid ({} bytes of bundle)",
        serde_json::to_vec(&bundle)?.len()
    )?;
    // 7. The notarised certificate, as a court files it: a PDF that carries its own proof.
    writeln!(
        out,
        "\n7. The court fetches the notarised certificate (存证证书) of proof #1 as PDF and verifies it with the file"
    )?;
    let pdf = super::certificate::get(
        &url,
        &court_token,
        &super::certificate::certificate_path(Some(&proof_sm3.to_hex()), None, true),
    )?;
    let outcome = super::verify::verify_bytes(&pdf, Some(first_file), Some(&policy))
        .map_err(|e| anyhow::anyhow!("the certificate PDF cannot be checked: {}", e.0))?;
    let number = outcome
        .line
        .get("certificate")
        .and_then(|n| n.as_str())
        .unwrap_or("certificate")
        .to_owned();
    let pdf_path = match &args.keep {
        Some(d) => d.join(format!("{number}.pdf")),
        None => std::env::temp_dir().join(format!("tiezheng-demo-{number}.pdf")),
    };
    std::fs::write(&pdf_path, &pdf)
        .with_context(|| format!("cannot write {}", pdf_path.display()))?;
    if let Some((layer, rule, reason)) = &outcome.failure {
        bail!("the certificate PDF does not verify: layer `{layer}`, rule `{rule}`: {reason}");
    }
    writeln!(
        out,
        "   certificate {number}: {} bytes of PDF/A-3 written to {}",
        pdf.len(),
        pdf_path.display()
    )?;
    writeln!(
        out,
        "   attached certificate (SM3 {}) verified: notary signature, every stated fact, the bundle and the file",
        outcome
            .line
            .get("certificate_sm3")
            .and_then(|n| n.as_str())
            .unwrap_or("?")
    )?;
    let attached = tiezheng_protocol::certificate::certificate_from_pdf(&pdf)
        .and_then(|b| tiezheng_protocol::certificate::parse_certificate(&b))
        .map_err(|e| anyhow::anyhow!("the certificate PDF's attachment: {e}"))?;
    if let Some(p) = &attached.0.certificate.procedure {
        let unmet = p.outcomes.iter().filter(|o| !o.met).count();
        writeln!(
            out,
            "   取证依据 forensic procedure: {} ({} v{}), {} requirements, {unmet} not met",
            p.title_zh,
            p.profile.id,
            p.profile.version,
            p.outcomes.len()
        )?;
    }
    writeln!(
        out,
        "   check it yourself: tiezheng verify {} --media {}",
        pdf_path.display(),
        first_file.display()
    )?;
    // The collection record (笔录) and inventory (清单): the certificate of the session's
    // closing proof, which the device and both officers signed.
    let record_pdf = loop_for_certificate(&url, &court_token, &summary.proof_sm3.to_hex())?;
    let record_check = super::verify::verify_bytes(&record_pdf, None, Some(&policy))
        .map_err(|e| anyhow::anyhow!("the record PDF cannot be checked: {}", e.0))?;
    if let Some((layer, rule, reason)) = &record_check.failure {
        bail!("the record PDF does not verify: layer `{layer}`, rule `{rule}`: {reason}");
    }
    let record_path = pdf_path.with_file_name(format!("tiezheng-demo-{number}-record.pdf"));
    std::fs::write(&record_path, &record_pdf)
        .with_context(|| format!("cannot write {}", record_path.display()))?;
    writeln!(
        out,
        "   笔录 collection record and inventory (电子数据现场提取笔录 · 固定清单) of {} files, signed by the device and both officers, verified: {}",
        summary
            .proof
            .manifest
            .session_summary
            .as_ref()
            .and_then(|s| s.record.as_ref())
            .map_or(0, |r| r.inventory.len()),
        record_path.display()
    )?;
    // 8. Judicial appraisal online: commission, procedure, signed and reviewed opinion.
    writeln!(
        out,
        "\n8. 司法鉴定 Judicial appraisal of proof #1's file, fully online: each party signs its own step"
    )?;
    let appraiser_token = admin_call(
        &conn,
        "/v1/tokens",
        &json!({"role": "appraiser", "subject": "demo appraisal institution", "cases": ["沪浦-2026-DEMO"], "ttl_seconds": 3600}),
    )?;
    let appraiser_token = appraiser_token
        .get("token")
        .and_then(|t| t.as_str())
        .context("appraiser token")?
        .to_owned();
    let item = bundle.proof.manifest.items.first().context("no item")?;
    let item_sm3 = item
        .hashes
        .iter()
        .find(|h| h.algorithm == tiezheng_protocol::HashAlgorithm::Sm3)
        .context("no SM3")?
        .value;
    super::demo_appraisal::run(
        &mut out,
        &super::demo_appraisal::Access {
            url: &url,
            court_token: &court_token,
            appraiser_token: &appraiser_token,
            rt: &rt,
        },
        &parties,
        (proof_sm3, &item.file_name, item_sm3),
        &policy,
        pdf_path.with_file_name(format!("tiezheng-demo-{number}-opinion.pdf")),
    )?;
    if args.serve {
        let bundle_path = work.join("evidence.bundle.json");
        std::fs::write(&bundle_path, serde_json::to_vec_pretty(&bundle)?)?;
        let appraiser = admin_call(
            &conn,
            "/v1/tokens",
            &json!({"role": "appraiser", "subject": "demo appraiser", "cases": ["沪浦-2026-DEMO"], "ttl_seconds": 86400}),
        )?;
        let appraiser = appraiser
            .get("token")
            .and_then(|t| t.as_str())
            .context("appraiser token")?;
        writeln!(
            out,
            "\n9. The portal (open in a browser; files are hashed and verified there, never uploaded):"
        )?;
        writeln!(out, "   verify:    {url}/verify")?;
        writeln!(
            out,
            "              certificate/bundle {}\n              media              {}",
            bundle_path.display(),
            first_file.display()
        )?;
        writeln!(out, "   appraiser: {url}/appraiser   token {appraiser}")?;
        writeln!(out, "   court:     {url}/court        token {court_token}")?;
        writeln!(out, "\nServing until Ctrl-C.")?;
        out.flush()?;
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    writeln!(
        out,
        "\nDone. (Embedded ledger: one validator, quorum of one. The CometBFT consortium ledger is `tiezheng ledger`; see the README.)"
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The OS location fix the demo's phone reports (Shanghai, fused provider).
/// The certificate PDF of `proof_sm3`, once its proof is anchored (at most ten seconds).
fn loop_for_certificate(url: &str, token: &str, proof_sm3: &str) -> anyhow::Result<Vec<u8>> {
    let path = super::certificate::certificate_path(Some(proof_sm3), None, true);
    let mut last = None;
    for _ in 0..100 {
        match super::certificate::get(url, token, &path) {
            Ok(pdf) => return Ok(pdf),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no certificate")))
}

/// The witness's signature as written on the phone's screen: a 1×1 PNG stands in for it.
const WITNESS_SIGNATURE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x56, 0xc7, 0x2f, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The forensic profile the demo's captures follow: administrative enforcement on site.
const DEMO_PROFILE: &str = "cn.admin-penalty.onsite.2021";

fn demo_fix() -> Option<LocationFix> {
    Some(LocationFix {
        latitude: Decimal::parse("31.230390").ok()?,
        longitude: Decimal::parse("121.473700").ok()?,
        altitude: None,
        horizontal_accuracy: Decimal::parse("6").ok(),
        vertical_accuracy: None,
        provider: LocationProvider::Fused,
        fix_time: None,
        satellites: Some(14),
        mock: false,
    })
}

fn hex_random() -> String {
    tiezheng_protocol::Hash32::sm3(
        format!("{:?}{}", std::time::SystemTime::now(), std::process::id()).as_bytes(),
    )
    .to_hex()
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> io::Result<Self> {
        let p = std::env::temp_dir().join(format!("tiezheng-demo-{}", &hex_random()[..12]));
        std::fs::create_dir_all(&p)?;
        Ok(Self(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where the repository keeps its sample media (with their sources, licences and
/// independently computed hashes).
const SAMPLE_MEDIA: &str = "tests/corpus";

/// The repository's sample media: [`SAMPLE_MEDIA`] in the repository holding the working
/// directory (from any folder inside a clone), else in the source tree this binary was built
/// from.
fn sample_media() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("reading the working directory")?;
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR"));
    cwd.ancestors()
        .chain(std::iter::once(built_from))
        .map(|root| root.join(SAMPLE_MEDIA))
        .find(|dir| dir.join("expected.json").is_file())
        .with_context(|| {
            format!(
                "no sample media: {SAMPLE_MEDIA} is neither in a folder above {} nor in {} (where this binary was built); run inside a clone of the repository, or pass --corpus DIR",
                cwd.display(),
                built_from.display()
            )
        })
}

/// Every regular file under `dir`, sorted, skipping the corpus' own metadata.
fn collect_media(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        bail!(
            "corpus directory {} not found: check the path given to --corpus",
            dir.display()
        );
    }
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file()
                && !matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("json" | "md")
                )
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
