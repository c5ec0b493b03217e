//! `tiezheng capture`, `tiezheng queue`, `tiezheng session close`, `tiezheng recover`: the
//! officer's side on a laptop. `capture` plays the camera: photos are read whole as the camera
//! would deliver them; video and audio are fed to the streaming recorder in 1 MiB chunks as an
//! encoder would. `--import` records an existing file as imported instead.

use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::json;
use tiezheng_protocol::manifest::{
    CaseRecord, Decimal, ItemKind, LocationFix, LocationProvider, PartyRecord, TimeSync,
};
use tiezheng_protocol::{Timestamp, canonical};
use tiezheng_sdk::capture::{CaptureContext, CaptureOutcome, MonotonicClock, SegmentPolicy};
use tiezheng_sdk::device::UnlockedDevice;
use tiezheng_sdk::media::MediaType;
use tiezheng_sdk::queue::Queue;

use super::device::{DirArg, unlock};
use super::emit_json_line;

/// Photos up to this size are read whole, as a camera hands them over; anything else streams
/// through the recorder in 1 MiB chunks.
const MAX_PHOTO_BYTES: u64 = 256 * 1024 * 1024;

/// Case and collection record options.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CaseArgs {
    /// Case or enforcement-session reference.
    #[arg(long, value_name = "REF")]
    case: String,
    /// Cause of the case (案由).
    #[arg(long)]
    cause: Option<String>,
    /// What is being recorded.
    #[arg(long)]
    object: Option<String>,
    /// Description of the content.
    #[arg(long)]
    description: Option<String>,
    /// Collection method.
    #[arg(long, default_value = "on-site capture with the Tiezheng SDK")]
    method: String,
    /// Collector officer ID (repeatable; default: the device's officers).
    #[arg(long = "collector", value_name = "ID")]
    collectors: Vec<String>,
    /// Holder or party name.
    #[arg(long)]
    holder: Option<String>,
    /// Note about the holder (e.g. refused to sign).
    #[arg(long)]
    holder_note: Option<String>,
    /// Witness name.
    #[arg(long)]
    witness: Option<String>,
    /// Why there is no witness, or a note about the witness.
    #[arg(long)]
    witness_note: Option<String>,
    /// The device clock's UTC offset, e.g. +08:00.
    #[arg(long, default_value = "+00:00", allow_hyphen_values = true)]
    utc_offset: String,
    /// The forensic profile to follow (`tiezheng profiles` lists them); default: the
    /// device's, set at `device init`, else `basic`.
    #[arg(long, value_name = "ID")]
    profile: Option<String>,
    /// Why a `should` of the profile cannot be met, as RULE=TEXT, e.g.
    /// `profile.location=indoors, no satellite fix` (repeatable; recorded in the manifest).
    #[arg(long = "reason", value_name = "RULE=TEXT", value_parser = parse_reason)]
    reasons: Vec<(String, String)>,
}

fn parse_reason(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((rule, text)) if rule.starts_with("profile.") && !text.trim().is_empty() => {
            Ok((rule.to_owned(), text.to_owned()))
        }
        _ => Err(format!(
            "{s:?}: write RULE=TEXT with a profile rule id, e.g. profile.location=indoors"
        )),
    }
}

/// The OS location fix, as an app would hand it in.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FixArgs {
    /// Latitude, decimal degrees (WGS-84).
    #[arg(long, allow_hyphen_values = true, requires = "lon")]
    lat: Option<String>,
    /// Longitude, decimal degrees (WGS-84).
    #[arg(long, allow_hyphen_values = true, requires = "lat")]
    lon: Option<String>,
    /// Altitude in metres.
    #[arg(long, allow_hyphen_values = true)]
    alt: Option<String>,
    /// Horizontal accuracy in metres.
    #[arg(long)]
    accuracy: Option<String>,
    /// Location provider.
    #[arg(long, value_enum, default_value = "gps")]
    provider: Provider,
    /// Time of the fix (RFC 3339).
    #[arg(long)]
    fix_time: Option<String>,
    /// Satellites used.
    #[arg(long)]
    satellites: Option<u32>,
    /// Vertical accuracy in metres.
    #[arg(long)]
    vertical_accuracy: Option<String>,
    /// The OS flagged the fix as mock.
    #[arg(long)]
    mock: bool,
    /// GNSS time of the fix (RFC 3339).
    #[arg(long)]
    gnss_time: Option<String>,
    /// Source of the last trusted time sync, e.g. ntp:ntp.ntsc.ac.cn.
    #[arg(long, requires_all = ["time_sync_at", "time_sync_offset_ms"])]
    time_sync_source: Option<String>,
    /// When the last time sync happened (RFC 3339).
    #[arg(long, requires = "time_sync_source")]
    time_sync_at: Option<String>,
    /// Device clock minus trusted time at the last sync, in milliseconds.
    #[arg(long, allow_hyphen_values = true, requires = "time_sync_source")]
    time_sync_offset_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Provider {
    Gps,
    Network,
    Fused,
    Manual,
}

/// Arguments of `tiezheng capture`.
#[derive(Debug, clap::Args)]
pub(crate) struct CaptureArgs {
    /// The photo, video or audio file.
    file: PathBuf,
    #[command(flatten)]
    dir: DirArg,
    #[command(flatten)]
    case: CaseArgs,
    #[command(flatten)]
    fix: FixArgs,
    /// Record the file as imported, not captured.
    #[arg(long)]
    import: bool,
    /// Recording segments close after this many bytes...
    #[arg(long, default_value_t = SegmentPolicy::default().max_bytes)]
    segment_bytes: u64,
    /// ...or this many milliseconds.
    #[arg(long, default_value_t = SegmentPolicy::default().max_ms)]
    segment_ms: u64,
}

/// Arguments of `tiezheng session close`.
#[derive(Debug, clap::Args)]
pub(crate) struct SessionCloseArgs {
    #[command(flatten)]
    dir: DirArg,
    #[command(flatten)]
    case: CaseArgs,
    /// When the session opened (RFC 3339); default: include every capture of the case.
    #[arg(long)]
    opened_at: Option<String>,
    #[command(flatten)]
    record: RecordArgs,
}

/// The collection record (笔录) and its inventory (清单), given with `--place`.
#[derive(Debug, clap::Args)]
pub(crate) struct RecordArgs {
    /// Where the data was collected: closes the session with the collection record (笔录)
    /// and the inventory (清单) of every file.
    #[arg(long, requires_all = ["process", "original_medium"])]
    place: Option<String>,
    /// How it was collected, in the collectors' words.
    #[arg(long)]
    process: Option<String>,
    /// The files' original medium, e.g. "the capturing phone".
    #[arg(long)]
    original_medium: Option<String>,
    /// Where the seized original medium is kept.
    #[arg(long, conflicts_with = "not_seized_reason")]
    kept_at: Option<String>,
    /// Why the original medium was not seized.
    #[arg(long)]
    not_seized_reason: Option<String>,
    /// The holder's signature written on screen (PNG or JPEG).
    #[arg(long, value_name = "IMAGE", conflicts_with = "holder_refusal")]
    holder_signature: Option<PathBuf>,
    /// Why the holder did not sign.
    #[arg(long)]
    holder_refusal: Option<String>,
    /// The witness's signature written on screen (PNG or JPEG).
    #[arg(long, value_name = "IMAGE", conflicts_with = "witness_refusal")]
    witness_signature: Option<PathBuf>,
    /// Why the witness did not sign, or why there is none.
    #[arg(long)]
    witness_refusal: Option<String>,
    /// The session's video that records the whole collection (全程录像), by file name: what a
    /// profile asking for a witness accepts when no witness signs.
    #[arg(long, value_name = "FILE")]
    process_recording: Option<String>,
}

fn party_confirmation(
    who: &str,
    image: &Option<PathBuf>,
    refusal: &Option<String>,
) -> anyhow::Result<tiezheng_sdk::capture::PartyConfirmation> {
    use tiezheng_sdk::capture::PartyConfirmation;
    match (image, refusal) {
        (Some(path), _) => Ok(PartyConfirmation::Signature(
            std::fs::read(path).with_context(|| format!("--{who}-signature {}", path.display()))?,
        )),
        (None, Some(reason)) => Ok(PartyConfirmation::Refused(reason.clone())),
        (None, None) => bail!(
            "give --{who}-signature IMAGE or --{who}-refusal REASON for the collection record"
        ),
    }
}

impl RecordArgs {
    fn input(&self) -> anyhow::Result<Option<tiezheng_sdk::capture::RecordInput>> {
        let Some(place) = &self.place else {
            return Ok(None);
        };
        Ok(Some(tiezheng_sdk::capture::RecordInput {
            place: place.clone(),
            process: self.process.clone().unwrap_or_default(),
            original: tiezheng_protocol::manifest::OriginalMedium {
                description: self.original_medium.clone().unwrap_or_default(),
                seized: self.kept_at.is_some(),
                kept_at: self.kept_at.clone(),
                not_seized_reason: self.not_seized_reason.clone(),
            },
            holder: party_confirmation("holder", &self.holder_signature, &self.holder_refusal)?,
            witness: party_confirmation("witness", &self.witness_signature, &self.witness_refusal)?,
            process_recording: self.process_recording.clone(),
        }))
    }
}

/// `tiezheng session ...`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum SessionCommand {
    /// Close an enforcement session with a signed summary of every capture in it.
    Close(Box<SessionCloseArgs>),
}

fn decimal(name: &str, v: &Option<String>) -> anyhow::Result<Option<Decimal>> {
    v.as_deref()
        .map(|s| Decimal::parse(s).with_context(|| format!("--{name}")))
        .transpose()
}

fn context(
    case: &CaseArgs,
    fix: Option<&FixArgs>,
    device: &UnlockedDevice,
) -> anyhow::Result<CaptureContext> {
    let offset = parse_offset(&case.utc_offset)?;
    let now = Timestamp::now_utc();
    let device_time = Timestamp::from_unix_ms(now.unix_ms(), offset);
    let collectors = if case.collectors.is_empty() {
        device.device().state().officers.clone()
    } else {
        case.collectors.clone()
    };
    let party = |name: &Option<String>, note: &Option<String>| {
        (name.is_some() || note.is_some()).then(|| PartyRecord {
            name: name.clone(),
            note: note.clone(),
        })
    };
    let os_fix = match fix {
        Some(f) if f.lat.is_some() => {
            let lat = decimal("lat", &f.lat)?.context("--lat")?;
            let lon = decimal("lon", &f.lon)?.context("--lon")?;
            if !(-90.0..=90.0).contains(&lat.to_f64()) || !(-180.0..=180.0).contains(&lon.to_f64())
            {
                bail!("--lat must be within ±90 and --lon within ±180 degrees");
            }
            Some(LocationFix {
                latitude: lat,
                longitude: lon,
                altitude: decimal("alt", &f.alt)?,
                horizontal_accuracy: decimal("accuracy", &f.accuracy)?,
                vertical_accuracy: decimal("vertical-accuracy", &f.vertical_accuracy)?,
                provider: match f.provider {
                    Provider::Gps => LocationProvider::Gps,
                    Provider::Network => LocationProvider::Network,
                    Provider::Fused => LocationProvider::Fused,
                    Provider::Manual => LocationProvider::Manual,
                },
                fix_time: f
                    .fix_time
                    .as_deref()
                    .map(Timestamp::parse)
                    .transpose()
                    .context("--fix-time")?,
                satellites: f.satellites,
                mock: f.mock,
            })
        }
        _ => None,
    };
    Ok(CaptureContext {
        profile: case.profile.clone(),
        reasons: case.reasons.iter().cloned().collect(),
        case: CaseRecord {
            reference: case.case.clone(),
            cause: case.cause.clone(),
            object: case.object.clone(),
            description: case.description.clone(),
            method: case.method.clone(),
            collectors,
            holder: party(&case.holder, &case.holder_note),
            witness: party(&case.witness, &case.witness_note),
        },
        device_time,
        monotonic_ms: uptime_ms(),
        gnss_time: fix
            .and_then(|f| f.gnss_time.as_deref())
            .map(Timestamp::parse)
            .transpose()
            .context("--gnss-time")?,
        last_time_sync: match fix {
            Some(FixArgs {
                time_sync_source: Some(source),
                time_sync_at: Some(at),
                time_sync_offset_ms: Some(offset),
                ..
            }) => Some(TimeSync {
                at: Timestamp::parse(at).context("--time-sync-at")?,
                source: source.clone(),
                offset_ms: *offset,
            }),
            _ => None,
        },
        os_fix,
    })
}

fn parse_offset(s: &str) -> anyhow::Result<i16> {
    let t = Timestamp::parse(&format!("2000-01-01T00:00:00{s}"))
        .with_context(|| format!("--utc-offset {s:?}: write it as +08:00 or -05:30"))?;
    Ok(t.offset_minutes())
}

/// Milliseconds since boot (Linux), the monotonic reading recorded with each capture.
fn uptime_ms() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/uptime").ok()?;
    // "12345.67 ...": seconds with two decimals.
    let (secs, frac) = s.split_whitespace().next()?.split_once('.')?;
    let centis: u64 = frac.get(..2)?.parse().ok()?;
    Some(secs.parse::<u64>().ok()? * 1000 + centis * 10)
}

fn print_proof(outcome: &CaptureOutcome) -> anyhow::Result<()> {
    let mut line = canonical::to_canonical_bytes(&outcome.proof)?;
    line.push(b'\n');
    let mut out = io::stdout().lock();
    out.write_all(&line)?;
    out.flush()?;
    Ok(())
}

fn recover(device: &UnlockedDevice) -> anyhow::Result<Vec<CaptureOutcome>> {
    let recovered = device.recover_recordings()?;
    for r in &recovered {
        let _ = writeln!(
            io::stderr(),
            "tiezheng: recovered an interrupted recording as device_seq {} ({} bytes proven)",
            r.proof.manifest.device_seq,
            r.proof.manifest.items.first().map_or(0, |i| i.bytes)
        );
    }
    Ok(recovered)
}

pub(crate) fn capture(a: &CaptureArgs) -> anyhow::Result<ExitCode> {
    let device = unlock(&a.dir.dir)?;
    recover(&device)?;
    let ctx = context(&a.case, Some(&a.fix), &device)?;
    super::officer::unlock_collectors(&device, &ctx.case.collectors)?;
    let name = a
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .context("FILE must name a file")?
        .to_owned();
    let open = || File::open(&a.file).with_context(|| format!("cannot open {}", a.file.display()));
    let outcome = if a.import {
        device.import_file(&a.file, &ctx)?
    } else {
        let mut head = [0u8; 16];
        let n = open()?.read(&mut head)?;
        let media = MediaType::sniff(head.get(..n).unwrap_or_default());
        let size = std::fs::metadata(&a.file).map_or(u64::MAX, |m| m.len());
        let photo = media.kind() == ItemKind::Photo && size <= MAX_PHOTO_BYTES;
        if !photo {
            let policy = SegmentPolicy {
                max_bytes: a.segment_bytes.max(1),
                max_ms: a.segment_ms,
            };
            let mut rec =
                device.start_recording(&name, policy, &ctx, Box::new(MonotonicClock::default()))?;
            let mut f = open()?;
            let mut buf = vec![0u8; 1024 * 1024];
            loop {
                let n = f
                    .read(&mut buf)
                    .with_context(|| format!("reading {}", a.file.display()))?;
                if n == 0 {
                    break;
                }
                rec.write(buf.get(..n).unwrap_or_default())?;
            }
            rec.finish()?
        } else {
            let mut bytes = Vec::new();
            open()?
                .read_to_end(&mut bytes)
                .with_context(|| format!("reading {}", a.file.display()))?;
            device.capture_photo(&name, &bytes, &ctx)?
        }
    };
    print_proof(&outcome)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn recover_cmd(a: &DirArg) -> anyhow::Result<ExitCode> {
    let device = unlock(&a.dir)?;
    for r in recover(&device)? {
        print_proof(&r)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn session(cmd: &SessionCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SessionCommand::Close(a) => {
            let device = unlock(&a.dir.dir)?;
            recover(&device)?;
            let ctx = context(&a.case, None, &device)?;
            super::officer::unlock_collectors(&device, &ctx.case.collectors)?;
            let opened = match &a.opened_at {
                Some(t) => Timestamp::parse(t).context("--opened-at")?,
                None => Timestamp::from_unix_ms(0, 0),
            };
            let outcome = match a.record.input()? {
                Some(record) => device.close_session_with_record(opened, &ctx, &record)?,
                None => device.close_session(opened, &ctx)?,
            };
            print_proof(&outcome)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) fn queue(a: &DirArg) -> anyhow::Result<ExitCode> {
    if !a.dir.join("device.json").exists() {
        bail!(
            "no device in {}: run `tiezheng device init --dir {}` first",
            a.dir.display(),
            a.dir.display()
        );
    }
    let q = Queue::open(&a.dir)?;
    let mut out = io::stdout().lock();
    for e in q.entries()? {
        let p = q.read(&e)?;
        let line = json!({
            "device_seq": e.device_seq,
            "state": e.state,
            "proof_sm3": p.sm3()?,
            "case": p.manifest.case.reference,
            "created_at": p.manifest.created_at,
            "files": p.manifest.items.iter().map(|i| &i.file_name).collect::<Vec<_>>(),
            "session_summary": p.manifest.session_summary.is_some(),
        });
        if !emit_json_line(&mut out, &line)? {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}
