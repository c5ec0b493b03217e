import CoreLocation
import Foundation
import LocalAuthentication
import Security
import TiezhengSDK

/// Seals the SDK's key-encryption key to a P-256 key that never leaves the Secure Enclave and
/// can be used only after the officer authenticates (Face ID / Touch ID / passcode).
final class SecureEnclaveVault: KeyVault, @unchecked Sendable {
    private let tag: Data
    private let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM

    /// `tag` names the Secure Enclave key: the device's by default, one per officer otherwise.
    init(tag: String = "cn.tiezheng.kek-wrapping") {
        self.tag = tag.data(using: .utf8)!
    }

    private func privateKey() throws -> SecKey {
        let query: [String: Any] = [kSecClass as String: kSecClassKey, kSecAttrApplicationTag as String: tag,
                                    kSecReturnRef as String: true]
        var item: CFTypeRef?
        if SecItemCopyMatching(query as CFDictionary, &item) == errSecSuccess { return item as! SecKey }
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(nil, kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly,
                                                           [.privateKeyUsage, .userPresence], &error),
              let key = SecKeyCreateRandomKey([
                  kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom, kSecAttrKeySizeInBits as String: 256,
                  kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
                  kSecPrivateKeyAttrs as String: [kSecAttrIsPermanent as String: true,
                                                  kSecAttrApplicationTag as String: tag,
                                                  kSecAttrAccessControl as String: access]] as CFDictionary, &error)
        else { throw TiezhengError.Platform(reason: "Secure Enclave: \(String(describing: error?.takeRetainedValue()))") }
        return key
    }

    func sealKek(kek: Data) throws -> Data {
        guard let pub = SecKeyCopyPublicKey(try privateKey()) else { throw TiezhengError.Platform(reason: "no public key") }
        var error: Unmanaged<CFError>?
        guard let sealed = SecKeyCreateEncryptedData(pub, algorithm, kek as CFData, &error) else {
            throw TiezhengError.Platform(reason: "sealing failed: \(String(describing: error?.takeRetainedValue()))")
        }
        return sealed as Data
    }

    func openKek(blob: Data) throws -> Data {
        var error: Unmanaged<CFError>?
        guard let kek = SecKeyCreateDecryptedData(try privateKey(), algorithm, blob as CFData, &error) else {
            let code = (error?.takeRetainedValue()).map { CFErrorGetCode($0) } ?? 0
            // A cancelled or timed-out prompt proves nothing wrong and must not count towards
            // the permanent lock; only a failed authentication does.
            switch code {
            case Int(errSecUserCanceled), LAError.userCancel.rawValue, LAError.systemCancel.rawValue,
                 LAError.appCancel.rawValue, LAError.notInteractive.rawValue:
                throw TiezhengError.UnlockCancelled
            case Int(errSecAuthFailed), LAError.authenticationFailed.rawValue:
                throw TiezhengError.WrongUnlock(attemptsLeft: 0)
            default:
                throw TiezhengError.Platform(reason: "Secure Enclave: error \(code)")
            }
        }
        return kek as Data
    }
}

/// Wall clock, time zone and a monotonic clock.
final class SystemClock: Clock, @unchecked Sendable {
    func nowUnixMs() throws -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    func utcOffsetMinutes() throws -> Int32 { Int32(TimeZone.current.secondsFromGMT() / 60) }
    func monotonicMs() throws -> UInt64 { UInt64(ProcessInfo.processInfo.systemUptime * 1000) }
}

/// CoreLocation's latest fix, WGS-84 as the OS reports it.
final class CoreLocationProvider: NSObject, LocationProvider, CLLocationManagerDelegate, @unchecked Sendable {
    private let manager = CLLocationManager()
    private var latest: CLLocation?

    func start() {
        manager.delegate = self
        manager.desiredAccuracy = kCLLocationAccuracyBest
        manager.requestWhenInUseAuthorization()
        manager.startUpdatingLocation()
    }

    func locationManager(_ manager: CLLocationManager, didUpdateLocations locations: [CLLocation]) {
        latest = locations.last
    }

    func currentFix() throws -> LocationFix? {
        guard let l = latest else { return nil }
        return LocationFix(latitude: l.coordinate.latitude, longitude: l.coordinate.longitude,
                           altitude: l.verticalAccuracy >= 0 ? l.altitude : nil,
                           horizontalAccuracy: l.horizontalAccuracy >= 0 ? l.horizontalAccuracy : nil,
                           verticalAccuracy: l.verticalAccuracy >= 0 ? l.verticalAccuracy : nil,
                           source: .gps, fixTimeUnixMs: Int64(l.timestamp.timeIntervalSince1970 * 1000),
                           satellites: nil, mock: l.sourceInformation?.isSimulatedBySoftware ?? false)
    }
}
