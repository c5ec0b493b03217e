//! The demo's judicial appraisal (司法鉴定全程在线): the court commissions an appraisal of
//! proof #1's file through the notary; the institution accepts and assigns two appraisers and a
//! reviewer, who each declare no conflict, receive the material by the SM3 they computed
//! themselves, record their work; the institution and both appraisers sign the opinion, the
//! reviewer approves it, and the institution delivers it. The court fetches the opinion with the
//! evidence bundle and verifies it offline against its policy and the judicial parties it pins.
//! Every party's key is made here and never sent; the notary checks each step as it comes.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tiezheng_protocol::appraisal::{
    Act, AppraiserCredential, Chain, MaterialItem, Role, SignedAppraiserCredential,
};
use tiezheng_protocol::bundle::{Party, PartyRole, Policy};
use tiezheng_protocol::{Hash32, Sm2SigningKey, Timestamp};

/// The demo's court and appraisal institution.
pub(super) const COURT: &str = "shanghai-pudong-court";
/// The demo's appraisal institution.
pub(super) const INSTITUTE: &str = "east-china-forensic-institute";

/// The parties' keys, made for this run.
pub(super) struct Parties {
    court: Sm2SigningKey,
    institute: Sm2SigningKey,
    people: Vec<(&'static str, Sm2SigningKey)>,
}

impl Parties {
    /// Fresh keys for the court, the institution, two appraisers and a reviewer.
    pub(super) fn new() -> anyhow::Result<Self> {
        let fresh = Sm2SigningKey::generate;
        Ok(Self {
            court: fresh(),
            institute: fresh(),
            people: vec![("A-101", fresh()), ("A-102", fresh()), ("R-201", fresh())],
        })
    }

    /// The judicial parties a court pins (and the notary is configured with).
    pub(super) fn pinned(&self) -> Vec<Party> {
        vec![
            Party {
                id: COURT.into(),
                role: PartyRole::Court,
                public_key: self.court.public_key().to_hex(),
            },
            Party {
                id: INSTITUTE.into(),
                role: PartyRole::AppraisalInstitution,
                public_key: self.institute.public_key().to_hex(),
            },
        ]
    }

    /// Writes the parties file the notary reads (`JUDICIAL_PARTIES_FILE`).
    pub(super) fn write(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(&self.pinned())?)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    fn person(&self, id: &str) -> anyhow::Result<&Sm2SigningKey> {
        self.people
            .iter()
            .find(|(p, _)| *p == id)
            .map(|(_, k)| k)
            .context("unknown person")
    }
}

/// A step to make: who, in which role, what, signed by which keys, with which credentials.
type Planned<'a> = (
    &'static str,
    Role,
    Act,
    Vec<&'a Sm2SigningKey>,
    Vec<SignedAppraiserCredential>,
);

/// Where the demo's notary is and who may call it.
pub(super) struct Access<'a> {
    pub(super) url: &'a str,
    pub(super) court_token: &'a str,
    pub(super) appraiser_token: &'a str,
    pub(super) rt: &'a tokio::runtime::Runtime,
}

impl Access<'_> {
    /// The court's `GET path`, asked again while the notary answers 409 `not_yet_anchored`
    /// (the last steps wait for the custody log to be anchored), for up to a minute.
    fn when_anchored(&self, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (status, body) = self.call("GET", path, self.court_token, None)?;
            let waiting = status == 409
                && serde_json::from_slice::<Value>(&body).is_ok_and(|v| {
                    v.get("code").and_then(Value::as_str) == Some("not_yet_anchored")
                });
            if !waiting || std::time::Instant::now() > deadline {
                return Ok((status, body));
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        self.rt.block_on(async {
            let client = reqwest::Client::new();
            let url = format!("{}{path}", self.url);
            let req = match body {
                Some(b) => client.request(method.parse()?, url).json(b),
                None => client.request(method.parse()?, url),
            };
            let resp = req.bearer_auth(token).send().await?;
            let status = resp.status().as_u16();
            Ok((status, resp.bytes().await?.to_vec()))
        })
    }
}

/// Runs the procedure on `file_name` (SM3 `file_sm3`) of proof `proof_sm3`, then fetches and
/// verifies the opinion; returns where it was written.
pub(super) fn run(
    out: &mut impl std::io::Write,
    access: &Access<'_>,
    parties: &Parties,
    (proof_sm3, file_name, file_sm3): (Hash32, &str, Hash32),
    policy: &Policy,
    opinion_path: PathBuf,
) -> anyhow::Result<PathBuf> {
    let items = vec![MaterialItem {
        proof_sm3,
        file_name: file_name.to_owned(),
        sm3: file_sm3,
    }];
    let start = Timestamp::now_utc().unix_ms();
    let mut minute = 0;
    let mut at = || {
        minute += 1;
        Timestamp::from_unix_ms(start + minute * 1000, 8 * 60)
    };
    let mut chain = Chain::default();
    chain.push(
        at(),
        COURT,
        Role::Court,
        Act::Commission {
            case_reference: "(2026)沪0115行初0001号".into(),
            institution: INSTITUTE.into(),
            items: items.clone(),
            questions: vec![
                "检材是否为执法记录设备采集后未经修改的原始文件？ Is the material the unaltered file the enforcement device captured?".into(),
            ],
            deadline: Timestamp::from_unix_ms(start + 30 * 86_400_000, 8 * 60),
        },
        &[&parties.court],
    )?;
    let first = chain.steps.first().context("no commission")?;
    let (status, body) = access.call(
        "POST",
        "/v1/appraisals",
        access.court_token,
        Some(&json!({"step": first})),
    )?;
    if status != 201 {
        bail!(
            "the notary refused the commission: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let filed: Value = serde_json::from_slice(&body)?;
    let commission = filed
        .get("commission_sm3")
        .and_then(Value::as_str)
        .context("commission SM3")?
        .to_owned();
    let credential = |id: &str| -> anyhow::Result<SignedAppraiserCredential> {
        let c = AppraiserCredential::new(
            INSTITUTE,
            id,
            &format!("鉴定人 {id}"),
            &format!("沪司鉴{id}"),
            parties.person(id)?.public_key(),
            Timestamp::from_unix_ms(start, 8 * 60),
        );
        Ok(SignedAppraiserCredential::sign(c, &parties.institute)?)
    };
    let inst = &parties.institute;
    let mut steps: Vec<Planned<'_>> = vec![
        (
            INSTITUTE,
            Role::Institution,
            Act::Acceptance {
                accepted: true,
                reason: None,
            },
            vec![inst],
            vec![],
        ),
        (
            INSTITUTE,
            Role::Institution,
            Act::Assignment {
                appraisers: vec!["A-101".into(), "A-102".into()],
                reviewer: "R-201".into(),
            },
            vec![inst],
            vec![],
        ),
    ];
    for id in ["A-101", "A-102", "R-201"] {
        steps.push((
            id,
            Role::Appraiser,
            Act::Declaration {
                statement: "本人与本案当事人无利害关系，无需回避 / no conflict of interest".into(),
            },
            vec![parties.person(id)?],
            vec![credential(id)?],
        ));
    }
    for id in ["A-101", "A-102"] {
        steps.push((
            id,
            Role::Appraiser,
            Act::MaterialReceipt {
                items: items.clone(),
            },
            vec![parties.person(id)?],
            vec![],
        ));
        steps.push((
            id,
            Role::Appraiser,
            Act::RecordEntry {
                tool: "tiezheng verify".into(),
                tool_version: env!("CARGO_PKG_VERSION").into(),
                action:
                    "verified the evidence bundle and the file offline against the court's policy"
                        .into(),
                result: "valid: every rule passed".into(),
                attachments: vec![],
            },
            vec![parties.person(id)?],
            vec![],
        ));
    }
    steps.push((INSTITUTE, Role::Institution, Act::Opinion { findings: vec!["是。检材的SM3与执法设备采集时签名、存证并上链的值一致，未见修改。 Yes: its SM3 is the value the device signed at capture, deposited and anchored; no alteration.".into()] }, vec![parties.person("A-101")?, parties.person("A-102")?, inst], vec![]));
    steps.push((
        "R-201",
        Role::Appraiser,
        Act::Review {
            approved: true,
            remarks: "复核同意 / approved on review".into(),
        },
        vec![parties.person("R-201")?],
        vec![],
    ));
    steps.push((
        INSTITUTE,
        Role::Institution,
        Act::Delivery {
            court: COURT.into(),
        },
        vec![inst],
        vec![],
    ));
    for (by, role, act, keys, credentials) in steps {
        chain.push(at(), by, role, act, &keys)?;
        let step = chain.steps.last().context("no step")?;
        let (status, body) = access.call(
            "POST",
            &format!("/v1/appraisals/{commission}/steps"),
            access.appraiser_token,
            Some(&json!({"step": step, "credentials": credentials})),
        )?;
        if status != 201 {
            bail!(
                "the notary refused the {} by {by}: {}",
                step.step.act.name(),
                String::from_utf8_lossy(&body)
            );
        }
    }
    writeln!(
        out,
        "   {} signed steps: commission, acceptance, assignment, 3 declarations (回避), 2 material receipts, 2 record entries, opinion, review (复核), delivery",
        chain.steps.len()
    )?;
    let (status, body) = access.when_anchored(&format!("/v1/appraisals/{commission}/opinion"))?;
    if status != 200 {
        bail!(
            "the opinion cannot be fetched: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let mut court_policy = policy.clone();
    court_policy.parties = parties.pinned();
    let outcome = super::verify::verify_bytes(&body, None, Some(&court_policy))
        .map_err(|e| anyhow::anyhow!("the opinion cannot be checked: {}", e.0))?;
    if let Some((layer, rule, reason)) = &outcome.failure {
        bail!("the opinion does not verify: layer `{layer}`, rule `{rule}`: {reason}");
    }
    let (status, pdf) =
        access.when_anchored(&format!("/v1/appraisals/{commission}/opinion.pdf"))?;
    if status != 200 {
        bail!(
            "the opinion PDF cannot be fetched: {}",
            String::from_utf8_lossy(&pdf)
        );
    }
    let checked = super::verify::verify_bytes(&pdf, None, Some(&court_policy))
        .map_err(|e| anyhow::anyhow!("the opinion PDF cannot be checked: {}", e.0))?;
    if let Some((layer, rule, reason)) = &checked.failure {
        bail!("the opinion PDF does not verify: layer `{layer}`, rule `{rule}`: {reason}");
    }
    std::fs::write(&opinion_path, &pdf)
        .with_context(|| format!("cannot write {}", opinion_path.display()))?;
    std::fs::write(opinion_path.with_extension("json"), &body)?;
    let policy_path = opinion_path.with_extension("policy.json");
    std::fs::write(&policy_path, serde_json::to_vec_pretty(&court_policy)?)?;
    writeln!(
        out,
        "   鉴定意见书 appraisal opinion (PDF/A-3, the signed procedure and the evidence bundle attached), signed by both appraisers and the institution, reviewed, verified: {}\n   check it yourself: tiezheng verify {} --policy {}",
        opinion_path.display(),
        opinion_path.display(),
        policy_path.display()
    )?;
    Ok(opinion_path)
}
