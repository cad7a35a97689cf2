/// Replaces secret values while a document is parsed, so they reach neither the normalized
/// fields nor the stored original.
///
/// What is redacted:
/// - environment variable *values* (`environment: [{name, value}]` in task definitions,
///   container overrides and CloudTrail requests; `env` and `environmentVariables` alike);
/// - the value of any member whose name says it is a secret (`password`, `token`,
///   `secretAccessKey`, `authorization`, `clientSecret`, `privateKey`, …);
/// - anywhere in any string: AWS access key ids (`AKIA…`, `ASIA…`), GitHub tokens (`ghp_…`,
///   `github_pat_…`), Slack tokens (`xoxb-…`) and webhook URLs (`hooks.slack.com/services/…`),
///   private-key blocks, the password of a URL (`https://user:password@host`), and
///   `password=…` / `token=…` / `secret=…` assignments.
///
/// What is kept: secret *references* (`secrets: [{name, valueFrom}]`, `environmentFiles`),
/// variable names, and everything else byte for byte.
public struct Redactor: JSONStringInspector {
    public static let marker = "[REDACTED]"

    public init() {}

    static func marker(_ kind: String) -> String { "[REDACTED:\(kind)]" }

    static let secretKeyNames: Set<String> = [
        "password", "passwd", "pwd", "secret", "secretkey", "secretaccesskey", "awssecretaccesskey",
        "sessiontoken", "awssessiontoken", "token", "accesstoken", "refreshtoken", "idtoken", "authtoken",
        "apikey", "apitoken", "clientsecret", "privatekey", "authorization", "webhookurl", "slackwebhook",
        "slackwebhookurl", "githubtoken", "ghtoken", "npmtoken", "dockerpassword", "registrypassword",
    ]

    public mutating func inspect(_ value: String, at path: JSONPathContext) -> String? {
        guard !value.isEmpty else { return nil }
        if let key = path.key {
            if key == "value", case .some(.none) = path.component(1),
                case .some(.some(let list)) = path.component(2), Self.isEnvironmentKey(list)
            {
                return Self.marker("env")
            }
            if Self.isSecretKey(key) {
                return Self.marker("secret")
            }
        }
        return Self.redactPatterns(in: value)
    }

    static func isEnvironmentKey(_ key: String) -> Bool {
        key == "environment" || key == "environmentVariables" || key == "Environment" || key == "env"
    }

    /// FNV-1a over the key with `_`/`-` dropped and ASCII lowercased: no allocation for the
    /// common case of an ordinary key.
    static func normalizedKeyHash(_ key: String) -> (hash: UInt64, length: Int) {
        var hash: UInt64 = 14_695_981_039_346_656_037
        var length = 0
        for var byte in key.utf8 where byte != UInt8(ascii: "_") && byte != UInt8(ascii: "-") {
            if byte >= 65 && byte <= 90 { byte += 32 }
            hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211
            length += 1
        }
        return (hash, length)
    }

    static let secretKeyHashes = Set(secretKeyNames.map { normalizedKeyHash($0).hash })
    static let secretKeyLengths = (secretKeyNames.map(\.count).min()!)...(secretKeyNames.map(\.count).max()!)

    static func isSecretKey(_ key: String) -> Bool {
        let (hash, length) = normalizedKeyHash(key)
        guard secretKeyLengths.contains(length), secretKeyHashes.contains(hash) else { return false }
        return secretKeyNames.contains(normalizedKey(key))
    }

    static func normalizedKey(_ key: String) -> String {
        var result = ""
        for scalar in key.unicodeScalars where scalar != "_" && scalar != "-" {
            result.unicodeScalars.append(contentsOf: String(scalar).lowercased().unicodeScalars)
        }
        return result
    }

    /// Redacts secret-looking substrings; returns nil when there are none.
    public static func redactPatterns(in value: String) -> String? {
        var value = value
        // Most strings hold nothing secret-shaped: decide that on the string's own bytes, and copy
        // them out only when a closer look is needed.
        guard value.withUTF8({ mayContainSecret($0) }) else { return nil }
        let bytes = Array(value.utf8)
        if contains(bytes, "PRIVATE KEY-----") { return marker("private-key") }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var changed = false
        var index = 0
        while index < bytes.count {
            if let (length, kind) = secretToken(bytes, at: index) {
                output.append(contentsOf: marker(kind).utf8)
                index += length
                changed = true
                continue
            }
            if let length = urlPassword(bytes, at: index) {
                // Keep "scheme://user:", drop the password, keep "@host…".
                output.append(contentsOf: marker("password").utf8)
                index += length
                changed = true
                continue
            }
            if let (keyLength, valueLength) = secretAssignment(bytes, at: index) {
                output.append(contentsOf: bytes[index..<index + keyLength])
                output.append(contentsOf: marker("secret").utf8)
                index += keyLength + valueLength
                changed = true
                continue
            }
            output.append(bytes[index])
            index += 1
        }
        return changed ? String(decoding: output, as: UTF8.self) : nil
    }

    /// A cheap test, true for every string a pattern below could match (and few others): an
    /// access key's `AKIA`/`ASIA`, a GitHub token's `gh?_` or `github_pat_`, a Slack `xox`,
    /// `hooks.slack`, `PRIVATE KEY`, `://` with an `@` after it, or `=` after a letter that ends an
    /// assignment key (passwor*d*, secre*t*, toke*n*, apike*y*).
    static func mayContainSecret(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = bytes.count
        guard count >= 8 else { return false }
        var url = false
        for index in 0..<(count - 3) {
            let next = bytes[index + 1]
            switch bytes[index] {
            case UInt8(ascii: "A") where (next == UInt8(ascii: "K") || next == UInt8(ascii: "S")) && bytes[index + 2] == UInt8(ascii: "I"):
                return true
            case UInt8(ascii: "g") where next == UInt8(ascii: "h")
                && (bytes[index + 3] == UInt8(ascii: "_") || bytes[index + 2] == UInt8(ascii: "i")):
                return true
            case UInt8(ascii: "x") where next == UInt8(ascii: "o") && bytes[index + 2] == UInt8(ascii: "x"): return true
            case UInt8(ascii: "h") where next == UInt8(ascii: "o") && bytes[index + 2] == UInt8(ascii: "o") && bytes[index + 3] == UInt8(ascii: "k"):
                return true
            case UInt8(ascii: "P") where next == UInt8(ascii: "R") && bytes[index + 2] == UInt8(ascii: "I"): return true
            case UInt8(ascii: ":") where next == UInt8(ascii: "/"): url = true
            case UInt8(ascii: "@") where url: return true
            default: break
            }
            if next == UInt8(ascii: "="), Self.endsAssignmentKey(bytes[index]) { return true }
        }
        // The last three bytes: only an `@` after a URL or an `=` can matter there.
        for index in (count - 3)..<count {
            if url && bytes[index] == UInt8(ascii: "@") { return true }
            if index > 0, bytes[index] == UInt8(ascii: "="), Self.endsAssignmentKey(bytes[index - 1]) { return true }
        }
        return false
    }

    private static func endsAssignmentKey(_ byte: UInt8) -> Bool {
        switch byte | 0x20 {
        case UInt8(ascii: "d"), UInt8(ascii: "t"), UInt8(ascii: "n"), UInt8(ascii: "y"): return true
        default: return false
        }
    }

    static func contains(_ bytes: [UInt8], _ fragment: String) -> Bool {
        let needle = Array(fragment.utf8)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { start in hasPrefix(bytes, start, needle) }
    }

    static func hasPrefix(_ bytes: [UInt8], _ start: Int, _ prefix: [UInt8]) -> Bool {
        guard start + prefix.count <= bytes.count else { return false }
        for offset in 0..<prefix.count where bytes[start + offset] != prefix[offset] { return false }
        return true
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }

    static func isUpperAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90)
    }

    static func run(_ bytes: [UInt8], from start: Int, while predicate: (UInt8) -> Bool) -> Int {
        var end = start
        while end < bytes.count, predicate(bytes[end]) { end += 1 }
        return end - start
    }

    private static let githubPrefixes = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"].map { Array($0.utf8) }
    private static let githubPATPrefix = Array("github_pat_".utf8)
    private static let accessKeyPrefix = Array("AKIA".utf8)
    private static let sessionKeyPrefix = Array("ASIA".utf8)
    private static let slackTokenPrefix = Array("xox".utf8)
    private static let slackTokenKinds = Array("abposr".utf8)
    private static let passwordMarker = Array(marker("password").utf8)
    private static let redactedPrefix = Array("[REDACTED".utf8)
    private static let slackWebhookPrefixes = ["https://hooks.slack.com/", "http://hooks.slack.com/"].map { Array($0.utf8) }

    /// A token that is a secret by its shape, at `index`: (its length, what it is).
    static func secretToken(_ bytes: [UInt8], at index: Int) -> (Int, String)? {
        // Only at a word boundary, so "XAKIA…" inside an identifier is not cut in half.
        if index > 0, isAlphanumeric(bytes[index - 1]) { return nil }
        let byte = bytes[index]
        if byte == UInt8(ascii: "A"), hasPrefix(bytes, index, accessKeyPrefix) || hasPrefix(bytes, index, sessionKeyPrefix) {
            let length = run(bytes, from: index + 4, while: isUpperAlphanumeric)
            if length == 16 { return (20, "aws-access-key-id") }
        }
        if byte == UInt8(ascii: "g") {
            for prefix in githubPrefixes where hasPrefix(bytes, index, prefix) {
                let length = run(bytes, from: index + 4, while: isAlphanumeric)
                if length >= 30 { return (4 + length, "github-token") }
            }
            if hasPrefix(bytes, index, githubPATPrefix) {
                let length = run(bytes, from: index + 11) { isAlphanumeric($0) || $0 == UInt8(ascii: "_") }
                if length >= 20 { return (11 + length, "github-token") }
            }
        }
        if byte == UInt8(ascii: "x"), index + 5 < bytes.count, hasPrefix(bytes, index, slackTokenPrefix),
            slackTokenKinds.contains(bytes[index + 3]), bytes[index + 4] == UInt8(ascii: "-")
        {
            let length = run(bytes, from: index + 5) { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
            if length >= 10 { return (5 + length, "slack-token") }
        }
        if byte == UInt8(ascii: "h") {
            for prefix in slackWebhookPrefixes where hasPrefix(bytes, index, prefix) {
                let length = run(bytes, from: index) { $0 > 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") }
                return (length, "slack-webhook")
            }
        }
        return nil
    }

    /// At `index` a URL password `:secret@` after `scheme://user`: returns the password's length.
    static func urlPassword(_ bytes: [UInt8], at index: Int) -> Int? {
        // index points just past "scheme://user:"
        guard index >= 4, bytes[index - 1] == UInt8(ascii: ":") else { return nil }
        var userStart = index - 1
        while userStart > 0, bytes[userStart - 1] != UInt8(ascii: "/"), bytes[userStart - 1] != UInt8(ascii: "@"),
            bytes[userStart - 1] > 0x20
        {
            userStart -= 1
        }
        guard userStart >= 3, bytes[userStart - 1] == UInt8(ascii: "/"), bytes[userStart - 2] == UInt8(ascii: "/"),
            bytes[userStart - 3] == UInt8(ascii: ":"), userStart < index - 1
        else { return nil }
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "@") {
            let byte = bytes[end]
            if byte == UInt8(ascii: "/") || byte <= 0x20 || byte == UInt8(ascii: "\"") { return nil }
            end += 1
        }
        guard end < bytes.count, end > index else { return nil }
        if bytes[index..<end].elementsEqual(passwordMarker) { return nil }
        return end - index
    }

    private static let assignmentKeys = ["password", "passwd", "pwd", "secret", "token", "apikey", "api_key"]
        .map { Array($0.utf8) }

    /// `password=value` (any case) at `index`: returns (length of "password=", length of value).
    static func secretAssignment(_ bytes: [UInt8], at index: Int) -> (Int, Int)? {
        if index > 0, isAlphanumeric(bytes[index - 1]) || bytes[index - 1] == UInt8(ascii: "_") { return nil }
        for key in assignmentKeys {
            guard index + key.count < bytes.count else { continue }
            var matches = true
            for offset in 0..<key.count {
                var byte = bytes[index + offset]
                if byte >= 65 && byte <= 90 { byte += 32 }
                if byte != key[offset] {
                    matches = false
                    break
                }
            }
            guard matches, bytes[index + key.count] == UInt8(ascii: "=") else { continue }
            let start = index + key.count + 1
            let length = run(bytes, from: start) {
                $0 > 0x20 && $0 != UInt8(ascii: "&") && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'")
                    && $0 != UInt8(ascii: ";")
            }
            guard length > 0, !hasPrefix(bytes, start, redactedPrefix) else { return nil }
            return (key.count + 1, length)
        }
        return nil
    }
}
