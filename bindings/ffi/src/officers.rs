//! Officers' own keys through the bindings: each collector registers a key of their own on the
//! device, sealed by a [`KeyVault`] of theirs (their PIN or biometric, never the device's);
//! unlocks it for the session, after which they sign every capture that names them as a
//! collector; and has the notary bind it (a one-time code issued for that officer).

use std::sync::Arc;

use tiezheng_protocol::officer::OfficerIdentity;
use tiezheng_sdk::client::NotaryClient;

use crate::device::Device;
use crate::errors::TiezhengError;
use crate::hooks::{KeyVault, VaultAdapter};

/// An officer as the device knows them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfficerInfo {
    /// Officer ID (as named among the collectors).
    pub officer_id: String,
    /// Name.
    pub name: String,
    /// Enforcement credential number (执法证号).
    pub badge_number: String,
    /// Unit.
    pub unit: String,
    /// SM3 of the officer's public key (empty when registering).
    #[uniffi(default = "")]
    pub key_id: String,
    /// Whether the notary bound the key (false when registering).
    #[uniffi(default = false)]
    pub enrolled: bool,
}

fn info(r: tiezheng_sdk::officers::OfficerRecord) -> OfficerInfo {
    OfficerInfo {
        officer_id: r.officer.officer_id,
        name: r.officer.name,
        badge_number: r.officer.badge_number,
        unit: r.officer.unit,
        key_id: r.key_id.to_hex(),
        enrolled: r.credential.is_some(),
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Device {
    /// Registers `officer` on the device: a key of the officer's own, generated here and
    /// sealed through `vault` (the officer's PIN or biometric). `InvalidInput` names a field
    /// that breaks its limits, or an officer already registered.
    pub fn add_officer(
        &self,
        officer: OfficerInfo,
        vault: Arc<dyn KeyVault>,
    ) -> Result<OfficerInfo, TiezhengError> {
        let identity = OfficerIdentity {
            officer_id: officer.officer_id,
            name: officer.name,
            badge_number: officer.badge_number,
            unit: officer.unit,
        };
        Ok(info(
            self.inner
                .device()
                .add_officer(identity, &VaultAdapter(vault))?,
        ))
    }

    /// The officers registered on the device.
    pub fn officers(&self) -> Result<Vec<OfficerInfo>, TiezhengError> {
        Ok(self
            .inner
            .device()
            .officers()?
            .into_iter()
            .map(info)
            .collect())
    }

    /// Unlocks officer `officer_id`'s key through `vault` for this session: from now on the
    /// officer signs every capture naming them as a collector. Wrong unlocks are counted
    /// (`WrongUnlock`); five lock the officer's key; a cancelled prompt counts for nothing.
    pub fn unlock_officer(
        &self,
        officer_id: String,
        vault: Arc<dyn KeyVault>,
    ) -> Result<OfficerInfo, TiezhengError> {
        Ok(info(
            self.inner
                .unlock_officer(&officer_id, &VaultAdapter(vault))?,
        ))
    }

    /// Has the notary bind officer `officer_id`'s unlocked key, with a one-time code the
    /// administrator issued for that officer; the credential is checked against the notary key
    /// pinned at the device's enrolment and kept.
    pub async fn enrol_officer(
        &self,
        officer_id: String,
        code: String,
    ) -> Result<OfficerInfo, TiezhengError> {
        let binding = tiezheng_sdk::client::NotaryBinding::load(self.inner.device().dir())?;
        let client = NotaryClient::new(&binding.url)?;
        client
            .enrol_officer(&self.inner, &officer_id, &code)
            .await?;
        self.officers()?
            .into_iter()
            .find(|o| o.officer_id == officer_id)
            .ok_or_else(|| TiezhengError::Other {
                reason: "the enrolled officer is no longer on the device".into(),
            })
    }
}
