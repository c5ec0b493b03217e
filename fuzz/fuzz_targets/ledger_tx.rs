//! The ledger's transaction checks (CheckTx, and the block execution that follows), on a
//! four-member genesis: any bytes are refused with a typed error or accepted; a block of them
//! executes without a panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tiezheng_chain::ledger::{Genesis, Ledger, Member};
use tiezheng_protocol::Sm2SigningKey;

static LEDGER: LazyLock<Ledger> = LazyLock::new(|| {
    let key = |seed: u8| {
        Sm2SigningKey::from_bytes(&[seed; 32])
            .expect("a valid scalar")
            .public_key()
            .to_hex()
    };
    let genesis = Genesis {
        chain_id: "tiezheng-fuzz".into(),
        members: ["court", "police", "procuratorate", "notary-office"]
            .iter()
            .zip(1u8..)
            .map(|(id, seed)| Member {
                id: (*id).into(),
                public_key: key(seed),
                power: 1,
            })
            .collect(),
        notaries: vec![key(9)],
        validators: Vec::new(),
    };
    Ledger::new(&genesis).expect("the genesis")
});

fuzz_target!(|data: &[u8]| {
    let _ = LEDGER.check_tx(data);
    let mut ledger = LEDGER.clone();
    let txs: Vec<Vec<u8>> = data.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
    let _ = ledger.finalize_block(1, tiezheng_protocol::Timestamp::from_unix_ms(1, 0), &txs);
});
