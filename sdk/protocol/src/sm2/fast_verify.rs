//! SM2 verification (GB/T 32918.2 §7) in variable time with precomputed tables.
//!
//! Every input of a verification is public (key, message digest, signature), so it may run in
//! variable time, as verifiers usually do; signing stays in [`super`], constant time.
//! Step B6, `(x1', y1') = [s']G + [t]P_A`, is where the time goes:
//!
//! * `[s']G` uses the library's precomputed generator table (66 additions, no doublings);
//! * `[t]P_A` uses a table of the key's own multiples `[j·256^i]P_A` once the key has been seen
//!   before (66 additions instead of 256 doublings): a notary verifies the same device keys
//!   over and over. The first verification with a key uses width-5 wNAF and only marks the
//!   key; the second builds its table (about 25 KiB, kept for at most [`CACHED_KEYS`] keys, the
//!   cache emptied when full).
//!
//! The result must equal the library's constant-time `VerifyingKey::verify_prehash` for every
//! input: the unit tests compare the two on valid, altered and foreign signatures, and the
//! GB/T 32918 and OpenSSL vectors run through this path.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use primeorder::{LookupTable, Radix16Decomposition, Radix16Digits};
use sm2::elliptic_curve::Group as _;
use sm2::elliptic_curve::ops::{MulByGeneratorVartime as _, Reduce as _};
use sm2::elliptic_curve::point::AffineCoordinates as _;
use sm2::{ProjectivePoint, Scalar, Sm2};

use super::error::Sm2Error;

/// How many keys the table cache holds (tables and first sightings together).
pub(crate) const CACHED_KEYS: usize = 1024;

/// Windows of 8 bits: 32 for a 256-bit scalar plus one for the signed decomposition's carry.
const WINDOWS: usize = 33;

/// `windows[i]` holds `[1..8]·256^i·P`; the radix-16 digits at even positions select from it
/// directly, those at odd positions are summed apart and multiplied by 16 at the end (the
/// layout of `primeorder::BasepointTable`, for an arbitrary point).
struct KeyTable {
    windows: Box<[LookupTable<ProjectivePoint>; WINDOWS]>,
}

impl KeyTable {
    fn new(point: ProjectivePoint) -> Self {
        let mut windows = Box::new([LookupTable::<ProjectivePoint>::default(); WINDOWS]);
        let mut base = point;
        for window in windows.iter_mut() {
            *window = LookupTable::new(base);
            for _ in 0..8 {
                base = base.double();
            }
        }
        Self { windows }
    }

    /// `[k]P` in variable time.
    #[allow(clippy::indexing_slicing)] // 65 digits, 33 windows: fixed by the curve's size
    fn mul_vartime(&self, k: &Scalar) -> ProjectivePoint {
        let digits = Radix16Decomposition::<Radix16Digits<Sm2>>::new(k);
        let mut even = self.windows[WINDOWS - 1].select_vartime(digits[2 * (WINDOWS - 1)]);
        let mut odd = ProjectivePoint::IDENTITY;
        for i in (0..WINDOWS - 1).rev() {
            odd += &self.windows[i].select_vartime(digits[2 * i + 1]);
            even += &self.windows[i].select_vartime(digits[2 * i]);
        }
        for _ in 0..4 {
            odd = odd.double();
        }
        even + odd
    }
}

/// Key (SEC1 bytes) → its table, or `None` for a key seen once.
type Tables = HashMap<[u8; 65], Option<Arc<KeyTable>>>;

/// Tables of keys seen before.
static TABLES: LazyLock<Mutex<Tables>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The key's table if it has been seen before (building it now if need be).
fn table_for(sec1: &[u8; 65], point: &ProjectivePoint) -> Option<Arc<KeyTable>> {
    {
        let mut tables = TABLES.lock().unwrap_or_else(PoisonError::into_inner);
        match tables.get(sec1) {
            Some(Some(table)) => return Some(Arc::clone(table)),
            Some(None) => {}
            None => {
                if tables.len() >= CACHED_KEYS {
                    tables.clear();
                }
                tables.insert(*sec1, None);
                return None;
            }
        }
    }
    // Built outside the lock: another thread may build the same table; the last one stays.
    let table = Arc::new(KeyTable::new(*point));
    let mut tables = TABLES.lock().unwrap_or_else(PoisonError::into_inner);
    if tables.len() >= CACHED_KEYS {
        tables.clear();
    }
    tables.insert(*sec1, Some(Arc::clone(&table)));
    Some(table)
}

/// One verification's inputs: the key and the digest `e = SM3(Z‖M)` already computed.
pub(crate) struct Prehashed<'a> {
    pub(crate) sec1: &'a [u8; 65],
    pub(crate) key: &'a sm2::PublicKey,
    pub(crate) e: [u8; 32],
    pub(crate) r: [u8; 32],
    pub(crate) s: [u8; 32],
}

/// Steps B1–B6 up to the point `[s']G + [t]P_A` (projective), with `r'` and `e'`.
fn point_of(item: &Prehashed<'_>) -> Result<(Scalar, Scalar, ProjectivePoint), Sm2Error> {
    // B1–B2: r', s' in [1, n-1].
    let signature = sm2::dsa::Signature::from_scalars(item.r, item.s)
        .map_err(|_| Sm2Error::ScalarOutOfRange("r or s"))?;
    let r: Scalar = *signature.r();
    let s: Scalar = *signature.s();
    // B4: e' as a scalar.
    let e = <Scalar as sm2::elliptic_curve::ops::Reduce<sm2::U256>>::reduce(
        &sm2::U256::from_be_slice(&item.e),
    );
    // B5: t = (r' + s') mod n, not 0.
    let t = r + s;
    if bool::from(t.is_zero()) {
        return Err(Sm2Error::BadSignature);
    }
    // B6: (x1', y1') = [s']G + [t]P_A, not the point at infinity.
    let p = item.key.to_projective();
    let tp = match table_for(item.sec1, &p) {
        Some(table) => table.mul_vartime(&t),
        None => p.mul_vartime(&t),
    };
    let point = ProjectivePoint::mul_by_generator_vartime(&s) + tp;
    if bool::from(point.is_identity()) {
        return Err(Sm2Error::BadSignature);
    }
    Ok((r, e, point))
}

/// Steps B1–B7 of GB/T 32918.2 §7.1 for each item, one result per item. The points of B6 are
/// brought to affine form together (one field inversion for the lot instead of one each).
pub(crate) fn verify_prehash_many(items: &[Prehashed<'_>]) -> Vec<Result<(), Sm2Error>> {
    use sm2::elliptic_curve::group::Curve as _;
    let partial: Vec<Result<(Scalar, Scalar, ProjectivePoint), Sm2Error>> =
        items.iter().map(point_of).collect();
    let points: Vec<ProjectivePoint> = partial
        .iter()
        .filter_map(|p| p.as_ref().ok().map(|(_, _, point)| *point))
        .collect();
    let mut affine = vec![sm2::AffinePoint::IDENTITY; points.len()];
    ProjectivePoint::batch_normalize(&points, &mut affine);
    let mut affine = affine.into_iter();
    partial
        .into_iter()
        .map(|p| {
            let (r, e, _) = p?;
            let x = affine.next().ok_or(Sm2Error::BadSignature)?.x();
            // B7: R = (e' + x1') mod n must equal r'.
            if r == e + Scalar::reduce(&x) {
                Ok(())
            } else {
                Err(Sm2Error::BadSignature)
            }
        })
        .collect()
}
