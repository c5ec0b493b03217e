//! Who issues a certificate, and with what standing: the operator's type (an evidence-deposit
//! platform, or a notary office, the only kind that issues 公证书), its legal name, its unified
//! social credit code (统一社会信用代码, GB 32100-2015, whose check character a verifier
//! recomputes), its blockchain information service filing number and a contact, beside the
//! key that signs. The operator states these (they are signed, and a court checks them
//! against the public registers); the wording of every document follows the type.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::hash::Hash32;
use crate::sm2::Sm2PublicKey;

/// What kind of organisation operates the notary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum OperatorType {
    /// An evidence-deposit platform (电子数据存证平台): issues 存证证书 (evidence deposit
    /// certificates).
    #[default]
    EvidencePlatform,
    /// A notary office (公证机构) under the Notarization Law: the only operator whose
    /// certificates may speak of 公证 (notarisation).
    NotaryOffice,
}

impl OperatorType {
    /// The document's title, Chinese and English.
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Self::EvidencePlatform => ("存证证书", "Evidence Deposit Certificate"),
            Self::NotaryOffice => ("公证存证证书", "Notarised Evidence Certificate"),
        }
    }

    /// What the issuer is called on the document, Chinese and English.
    pub fn issuer_label(self) -> (&'static str, &'static str) {
        match self {
            Self::EvidencePlatform => ("存证平台", "Evidence deposit platform"),
            Self::NotaryOffice => ("公证机构", "Notary office"),
        }
    }
}

/// The issuer's standing, as the operator configures it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerStanding {
    /// Evidence-deposit platform or notary office.
    pub operator_type: OperatorType,
    /// The name the service is known by.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// The operator's registered legal name (法定名称).
    #[schemars(length(min = 1, max = 200))]
    pub legal_name: String,
    /// Its unified social credit code (统一社会信用代码): 18 characters of GB 32100-2015,
    /// the last a check character.
    #[schemars(regex(pattern = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"))]
    pub credit_code: String,
    /// Its blockchain information service filing number (区块链信息服务备案编号), or `null`
    /// when it has none.
    pub filing_number: Option<String>,
    /// How a court reaches it (address, telephone).
    #[schemars(length(min = 1, max = 200))]
    pub contact: String,
}

impl IssuerStanding {
    /// Every field well formed: names and contact of 1–200 characters, not blank; the credit
    /// code with its right check character; a filing number, when there is one, of 1–100.
    pub fn check(&self) -> Result<(), String> {
        let text = |field: &str, v: &str, max: usize| {
            if v.trim().is_empty() || v.chars().count() > max {
                Err(format!(
                    "issuer.{field}: write 1 to {max} characters, not blank"
                ))
            } else {
                Ok(())
            }
        };
        text("name", &self.name, 200)?;
        text("legal_name", &self.legal_name, 200)?;
        text("contact", &self.contact, 200)?;
        if let Some(f) = &self.filing_number {
            text("filing_number", f, 100)?;
        }
        check_credit_code(&self.credit_code).map_err(|e| format!("issuer.credit_code: {e}"))
    }
}

// The standing's fields are repeated here rather than flattened: serde refuses unknown members
// and flattening together, and the certificate's schema must list every member.
/// Who issued the certificate: its standing, its key and its verification page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// Evidence-deposit platform or notary office.
    pub operator_type: OperatorType,
    /// The name the service is known by.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// The operator's registered legal name (法定名称).
    #[schemars(length(min = 1, max = 200))]
    pub legal_name: String,
    /// Its unified social credit code (统一社会信用代码, GB 32100-2015).
    #[schemars(regex(pattern = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"))]
    pub credit_code: String,
    /// Its blockchain information service filing number, or `null`.
    pub filing_number: Option<String>,
    /// How a court reaches it.
    #[schemars(length(min = 1, max = 200))]
    pub contact: String,
    /// The notary's SM2 public key, `04‖X‖Y` hex: the key that signed the certificate and
    /// the proof's receipt.
    #[schemars(regex(pattern = r"^04[0-9a-f]{128}$"))]
    pub public_key: String,
    /// SM3 of that key.
    pub key_id: Hash32,
    /// The notary's online verification page; the PDF's QR code adds the hashes after `#`.
    #[schemars(length(min = 1, max = 500))]
    pub verify_url: String,
}

impl Issuer {
    /// The issuer with `standing` and signing key `key`.
    pub fn new(standing: IssuerStanding, key: &Sm2PublicKey, verify_url: String) -> Self {
        Self {
            operator_type: standing.operator_type,
            name: standing.name,
            legal_name: standing.legal_name,
            credit_code: standing.credit_code,
            filing_number: standing.filing_number,
            contact: standing.contact,
            public_key: key.to_hex(),
            key_id: key.key_id(),
            verify_url,
        }
    }

    /// Its standing, as stated.
    pub fn standing(&self) -> IssuerStanding {
        IssuerStanding {
            operator_type: self.operator_type,
            name: self.name.clone(),
            legal_name: self.legal_name.clone(),
            credit_code: self.credit_code.clone(),
            filing_number: self.filing_number.clone(),
            contact: self.contact.clone(),
        }
    }
}

/// The 31 characters of GB 32100-2015, in the order of their values 0–30 (no I, O, S, V, Z).
const CREDIT_CODE_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Checks a unified social credit code (GB 32100-2015): 18 characters of the code's set, the
/// registration authority's region (characters 3–8) in digits, and the 18th the check
/// character: `31 − (Σ value(cᵢ)·3^(i−1) mod 31) mod 31` over the first 17.
pub fn check_credit_code(code: &str) -> Result<(), String> {
    let bytes = code.as_bytes();
    if bytes.len() != 18 {
        return Err(format!(
            "{code:?} has {} characters; a unified social credit code has 18",
            code.chars().count()
        ));
    }
    let mut values = [0u32; 18];
    for (i, b) in bytes.iter().enumerate() {
        let Some(v) = CREDIT_CODE_CHARS.iter().position(|c| c == b) else {
            return Err(format!(
                "{code:?}: character {} ({:?}) is not one of GB 32100-2015's (digits and upper-case letters but I, O, S, V, Z)",
                i + 1,
                char::from(*b)
            ));
        };
        if let Some(slot) = values.get_mut(i) {
            *slot = u32::try_from(v).unwrap_or(0);
        }
    }
    if !bytes
        .get(2..8)
        .is_some_and(|r| r.iter().all(u8::is_ascii_digit))
    {
        return Err(format!(
            "{code:?}: characters 3 to 8 (the administrative region) are not digits"
        ));
    }
    let mut weight = 1u32;
    let mut sum = 0u32;
    for v in values.iter().take(17) {
        sum += v * weight;
        weight = weight * 3 % 31;
    }
    let check = (31 - sum % 31) % 31;
    let expected = CREDIT_CODE_CHARS
        .get(usize::try_from(check).unwrap_or(0))
        .copied()
        .unwrap_or(b'0');
    if bytes.get(17) == Some(&expected) {
        Ok(())
    } else {
        Err(format!(
            "{code:?}: the check character is {:?}, GB 32100-2015 gives {:?} for the first 17; check the code",
            char::from(bytes.get(17).copied().unwrap_or(b'?')),
            char::from(expected)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_check_and_altered_ones_do_not() {
        // Codes printed on business licences and in the public register (国家企业信用信息公示系统).
        for code in [
            "91330100716105852F",
            "9144030071526726XG",
            "91110000802100433B",
        ] {
            assert_eq!(check_credit_code(code), Ok(()), "{code}");
        }
        for bad in [
            "91330100716105852G", // check character
            "91330100716105825F", // two characters swapped
            "9133010071610585F",  // 17 characters
            "91330100716I05852F", // I is not in the set
            "913301A0716105852F", // region not in digits
        ] {
            assert!(check_credit_code(bad).is_err(), "{bad}");
        }
    }
}
