import Crypto
import ShiplogKit

/// The checks that decide who may call: GitHub's body signature, bearer tokens and Basic auth.
/// Every comparison takes the same time whatever the bytes, so a caller cannot learn a secret
/// one byte at a time from how fast it is refused.
enum Credentials {
    /// Whether `header` (`X-Hub-Signature-256: sha256=<hex>`) is the HMAC-SHA256 of `body` under
    /// one of the secrets.
    static func githubSignatureIsValid(_ header: String?, body: [UInt8], secrets: [SecretValue]) -> Bool {
        guard let header, header.hasPrefix("sha256="), let signature = Hex.decode(String(header.dropFirst(7))),
            signature.count == SHA256.byteCount
        else { return false }
        var valid = false
        // Every secret is tried, so the time taken does not say which one matched.
        for secret in secrets {
            let key = SymmetricKey(data: secret.bytes)
            if HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: body, using: key) { valid = true }
        }
        return valid
    }

    /// The signature GitHub would send for `body` under `secret`.
    static func githubSignature(body: [UInt8], secret: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return "sha256=" + Hex.encode(Array(code))
    }

    /// Whether `presented` equals one of the accepted values. Both sides are hashed first, so
    /// the comparison is over equal lengths whatever was sent.
    static func matches(_ presented: [UInt8], _ accepted: [SecretValue]) -> Bool {
        let presentedDigest = Array(SHA256.hash(data: presented))
        var matched = false
        for value in accepted where equalInConstantTime(presentedDigest, Array(SHA256.hash(data: value.bytes))) {
            matched = true
        }
        return matched
    }

    static func equalInConstantTime(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    /// The token of `Authorization: Bearer <token>`.
    static func bearerToken(_ header: String?) -> [UInt8]? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return Array(parts[1].utf8)
    }

    /// The user and password of `Authorization: Basic <base64(user:password)>`.
    static func basicCredentials(_ header: String?) -> (user: String, password: [UInt8])? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic", let decoded = Base64.decode(String(parts[1])),
            let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        else { return nil }
        return (String(decoding: decoded[..<colon], as: UTF8.self), Array(decoded[(colon + 1)...]))
    }
}

/// RFC 4648 base64, the standard alphabet, padding optional.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return output
    }
}
