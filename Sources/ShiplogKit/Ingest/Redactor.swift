/// The one place that decides what is a secret. Every byte that enters shiplog passes through it
/// before it is stored, printed or written anywhere: documents while they are parsed (ingest, and
/// the raw JSON bodies nested inside them), the events `record`, `mark-bad` and `rollback --record`
/// build (`redact(_:)`), free text such as reasons and error messages (`redactPatterns(in:)`), and
/// the bytes of documents that could not be parsed (`redactText(_:)`, for `--rejects`).
///
/// What is redacted:
/// - environment variable *values* (`environment: [{name, value}]` in task definitions,
///   container overrides and CloudTrail requests; `env`, `environmentVariables` and
///   CloudFormation's `Environment: [{Name, Value}]` alike), whatever their JSON type;
/// - the value of any member whose name contains a secret word (`password`, `passphrase`,
///   `secret`, `token`, `apiKey`, `accessKey`, `privateKey`, `authorization`, …: `dbPassword`,
///   `db_password`, `x-api-key` and `AWS_SECRET_ACCESS_KEY` all count), whatever its JSON type:
///   a number, an array or an object under such a name is replaced whole. Names that *refer* to a
///   secret rather than hold one are kept: `…Arn`, `…Id`, `…Name`, `valueFrom`, `secrets`,
///   `secretOptions`, `…File`, `…Path`, `…Url`, counts and types;
/// - docker's `auths.*.auth` (`auth` is a secret name wherever it stands);
/// - the argument after a secret-named flag in an argument list (`["--password", "x"]`);
/// - anywhere in any string: AWS access key ids (`AKIA…`, `ASIA…`), GitHub (`ghp_…`,
///   `github_pat_…`), GitLab (`glpat-…`), npm (`npm_…`), Slack (`xoxb-…`, `xapp-…`) and Stripe-style
///   (`sk_live_…`) tokens, JWTs, `Bearer …` credentials, Slack webhook URLs, private-key blocks,
///   the password of a URL (`https://user:password@host`, `redis://:password@host`), and
///   assignments to a secret-named key (`DB_PASSWORD=…`, `export AWS_SESSION_TOKEN=…`,
///   `client_secret=…`, `--password=…`, `--password …`, `password: …`, `"password": "…"`).
///
/// What is kept: secret *references* (`secrets: [{name, valueFrom}]`, `environmentFiles`),
/// variable names, and everything else byte for byte.
public struct Redactor: JSONStringInspector {
    public static let marker = "[REDACTED]"

    public init() {}

    static func marker(_ kind: String) -> String { "[REDACTED:\(kind)]" }

    /// Set after a secret-named flag (`--password`) in an array: the depth of that array, so
    /// that the next string in it is the secret.
    private var secretArgumentDepth: Int?

    // MARK: Parsing: the hooks the JSON parser calls

    public func redactsMember(at path: JSONPathContext) -> String? {
        guard let key = path.key else { return nil }
        if Self.isEnvironmentValueKey(key), case .some(.none) = path.component(1),
            case .some(.some(let list)) = path.component(2), Self.isEnvironmentKey(list)
        {
            return Self.marker("env")
        }
        if Self.isSecretKey(key) { return Self.marker("secret") }
        return nil
    }

    public mutating func inspect(_ value: String, at path: JSONPathContext) -> String? {
        guard !value.isEmpty else { return nil }
        if path.key == nil && path.components.count > 0 {
            // An array element: the argument after `--password` is the password.
            if secretArgumentDepth == path.components.count {
                secretArgumentDepth = nil
                return Self.marker("secret")
            }
            secretArgumentDepth = Self.isSecretFlag(value) ? path.components.count : nil
        } else {
            secretArgumentDepth = nil
        }
        if path.components.count == 1, let key = path.key, key == "body" || key == "payload",
            let redacted = Self.redactEmbeddedDocument(value)
        {
            return redacted
        }
        return Self.redactPatterns(in: value)
    }

    /// A request body kept as its raw JSON text (a webhook delivery's `body`): the JSON inside is
    /// redacted by the same rules as a document, and written back as text.
    static func redactEmbeddedDocument(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { raw -> String? in
            var start = 0
            while start < raw.count, InputReader.isWhitespace(raw[start]) { start += 1 }
            guard start < raw.count, raw[start] == UInt8(ascii: "{") || raw[start] == UInt8(ascii: "[") else { return nil }
            var parser = JSONParser(bytes: UnsafeRawBufferPointer(raw), offset: start, inspector: Redactor())
            guard (try? parser.parseValue()) != nil else {
                // Not JSON after all: the patterns still apply to it as text.
                return redactText(Array(raw)).map { String(decoding: $0, as: UTF8.self) }
            }
            guard !parser.replacements.isEmpty else { return nil }
            return String(decoding: InputReader.splice(Array(raw), base: 0, parser.replacements), as: UTF8.self)
        }
    }

    // MARK: Values built in memory (record, mark-bad, rollback --record)

    /// The same rules applied to a value that was not parsed from bytes: returns the redacted
    /// value and how many values were replaced.
    public static func redact(_ value: JSON) -> (value: JSON, redactions: Int) {
        var redactor = Redactor()
        var path = JSONPathContext()
        var count = 0
        let result = redactor.walk(value, path: &path, count: &count)
        return (result, count)
    }

    public static func redact(_ object: JSONObject) -> (value: JSONObject, redactions: Int) {
        let (value, count) = redact(.object(object))
        return (value.object ?? object, count)
    }

    private mutating func walk(_ value: JSON, path: inout JSONPathContext, count: inout Int) -> JSON {
        switch value {
        case .string(let text):
            if let replacement = inspect(text, at: path) {
                count += 1
                return .string(replacement)
            }
            return value
        case .array(let items):
            path.push(nil)
            defer { path.pop() }
            return .array(items.map { walk($0, path: &path, count: &count) })
        case .object(let object):
            var members: [JSONMember] = []
            members.reserveCapacity(object.count)
            for member in object {
                path.push(member.key)
                defer { path.pop() }
                if let marker = redactsMember(at: path), Self.holdsSecret(member.value) {
                    count += 1
                    members.append(JSONMember(key: member.key, value: .string(marker)))
                } else {
                    members.append(JSONMember(key: member.key, value: walk(member.value, path: &path, count: &count)))
                }
            }
            return .object(JSONObject(members: members))
        case .null, .bool, .number:
            return value
        }
    }

    /// Whether a value under a secret name holds anything to hide: null, booleans and empty
    /// strings, arrays and objects say nothing and are kept (so are markers already there).
    public static func holdsSecret(_ value: JSON) -> Bool {
        switch value {
        case .null, .bool: return false
        case .number: return true
        case .string(let text): return !text.isEmpty && !text.hasPrefix("[REDACTED")
        case .array(let items): return !items.isEmpty
        case .object(let object): return object.count > 0
        }
    }

    // MARK: Names

    static func isEnvironmentKey(_ key: String) -> Bool {
        switch normalizedKey(key) {
        case "environment", "environmentvariables", "env", "envvars": return true
        default: return false
        }
    }

    static func isEnvironmentValueKey(_ key: String) -> Bool { key == "value" || key == "Value" || key == "VALUE" }

    /// Secret words, matched anywhere in a normalized name (lowercased, `_`, `-` and `.` dropped).
    private static let secretWords = [
        "password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey", "privatekey", "signingkey",
        "authorization", "webhookurl",
    ].map { Array($0.utf8) }
    /// Names that are secrets only when they are the whole name.
    private static let secretNames: Set<String> = ["pwd", "pass", "auth", "credentials", "dsn"]
    /// Endings of names that refer to a secret, or describe one, rather than hold it.
    private static let referenceSuffixes = [
        "arn", "arns", "id", "ids", "name", "names", "ref", "refs", "reference", "from", "type", "types", "count",
        "options", "parameter", "file", "path", "url", "urls", "expiration", "expiry", "expires", "expiresat",
        "enabled", "required", "length", "policy", "status", "scanning",
    ].map { Array($0.utf8) }
    private static let webhookURLWord = Array("webhookurl".utf8)
    /// `secrets` (ECS secret references, Secrets Manager's service name) names references.
    private static let referenceWord = Array("secrets".utf8)

    /// Whether a member or variable name says its value is a secret. Decided on a normalized copy
    /// held on the stack: no allocation for the common short name.
    public static func isSecretKey(_ key: String) -> Bool {
        var key = key
        return key.withUTF8 { isSecretName($0) }
    }

    static func isSecretName(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
        guard raw.count >= 3, raw.count <= 128 else { return false }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: raw.count) { buffer -> Bool in
            var length = 0
            for var byte in raw where byte != UInt8(ascii: "_") && byte != UInt8(ascii: "-") && byte != UInt8(ascii: ".") {
                if byte >= 65 && byte <= 90 { byte += 32 }
                buffer[length] = byte
                length += 1
            }
            let name = UnsafeBufferPointer(rebasing: buffer[0..<length])
            if length <= 11, secretNames.contains(String(decoding: name, as: UTF8.self)) { return true }
            if contains(name, referenceWord) { return false }
            var word: [UInt8]?
            for candidate in secretWords where contains(name, candidate) {
                word = candidate
                break
            }
            guard let word else { return false }
            if hasSuffix(name, word) { return true }
            if word == webhookURLWord { return true }
            for suffix in referenceSuffixes where hasSuffix(name, suffix) { return false }
            return true
        }
    }

    /// `--password`, `-api-key`: a flag whose name is a secret word.
    static func isSecretFlag(_ value: String) -> Bool {
        guard value.hasPrefix("-"), value.utf8.count < 64, !value.contains("=") else { return false }
        return isSecretKey(String(value.drop { $0 == "-" }))
    }

    private static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        let first = needle[0]
        for start in 0...(haystack.count - needle.count) where haystack[start] == first {
            var matched = true
            for offset in 1..<needle.count where haystack[start + offset] != needle[offset] {
                matched = false
                break
            }
            if matched { return true }
        }
        return false
    }

    private static func hasSuffix(_ haystack: UnsafeBufferPointer<UInt8>, _ suffix: [UInt8]) -> Bool {
        guard haystack.count >= suffix.count else { return false }
        let start = haystack.count - suffix.count
        for offset in 0..<suffix.count where haystack[start + offset] != suffix[offset] { return false }
        return true
    }

    static func normalizedKey(_ key: String) -> String {
        var result = ""
        for scalar in key.unicodeScalars where scalar != "_" && scalar != "-" && scalar != "." {
            result.unicodeScalars.append(contentsOf: String(scalar).lowercased().unicodeScalars)
        }
        return result
    }

    // MARK: Text

    /// Redacts secret-looking substrings of a string; returns nil when there are none.
    public static func redactPatterns(in value: String) -> String? {
        var value = value
        return value.withUTF8 { raw in
            var scanner = TextScanner(raw)
            return scanner.redacted().map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The same for bytes that are not (or not known to be) valid JSON, such as a document that
    /// failed to parse: quoted `"password": "…"` members are found as text.
    public static func redactText(_ bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBufferPointer { raw in
            var scanner = TextScanner(raw)
            return scanner.redacted()
        }
    }

    /// Free text (a reason, an error message) with every secret-shaped part replaced.
    public static func redactedText(_ text: String) -> String { redactPatterns(in: text) ?? text }
}

/// One pass over text, left to right, replacing each secret it recognises. Linear: every rule
/// looks ahead from the current position and the scan continues after what it consumed.
struct TextScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    private var output: [UInt8] = []
    /// Bytes before this offset are already in `output` (once something was replaced).
    private var copied = 0
    private var changed = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    static func marker(_ kind: String) -> [UInt8] { Array(Redactor.marker(kind).utf8) }

    /// Returns the text with secrets replaced, or nil when nothing was.
    mutating func redacted() -> [UInt8]? {
        let count = bytes.count
        guard count >= 6 else { return nil }
        var index = 0
        // The end of the key-like word last looked at: a key is looked up once per word, while
        // tokens are still looked for after each `_`, `-` or `.` inside it (`key_AKIA…`).
        var wordEnd = 0
        while index < count {
            let byte = bytes[index]
            // A private-key block anywhere makes the whole string the secret; found in this same
            // pass rather than by a scan of its own before it.
            if byte == UInt8(ascii: "P"), hasPrefix("PRIVATE KEY-----", at: index) { return Self.marker("private-key") }
            let atBoundary = index == 0 || !Self.isWordByte(bytes[index - 1])
            if atBoundary, let (length, kind) = secretToken(at: index) {
                replace(index..<index + length, with: Self.marker(kind))
                index += length
                continue
            }
            if byte == UInt8(ascii: ":"), index + 2 < count, bytes[index + 1] == UInt8(ascii: "/"),
                bytes[index + 2] == UInt8(ascii: "/"), let password = urlPassword(afterScheme: index + 3)
            {
                replace(password, with: Self.marker("password"))
                index = password.upperBound
                continue
            }
            if atBoundary, index >= wordEnd, Self.isKeyByte(byte), byte != UInt8(ascii: ".") {
                wordEnd = keyEnd(from: index)
                if let value = assignedValue(key: index..<wordEnd) {
                    replace(value, with: Self.marker("secret"))
                    index = value.upperBound
                    continue
                }
            }
            index += 1
        }
        guard changed else { return nil }
        output.append(contentsOf: bytes[copied..<count])
        return output
    }

    private mutating func replace(_ range: Range<Int>, with marker: [UInt8]) {
        if !changed {
            output.reserveCapacity(bytes.count)
            changed = true
        }
        output.append(contentsOf: bytes[copied..<range.lowerBound])
        output.append(contentsOf: marker)
        copied = range.upperBound
    }

    // MARK: Tokens recognised by their shape

    private static let tokenPrefixes: [(prefix: [UInt8], minimum: Int, kind: String, allowsDash: Bool)] = [
        ("ghp_", 30, "github-token", false), ("gho_", 30, "github-token", false), ("ghu_", 30, "github-token", false),
        ("ghs_", 30, "github-token", false), ("ghr_", 30, "github-token", false),
        ("github_pat_", 20, "github-token", false), ("glpat-", 20, "gitlab-token", true), ("npm_", 30, "npm-token", false),
        ("xapp-", 10, "slack-token", true), ("xoxa-", 6, "slack-token", true), ("xoxb-", 6, "slack-token", true),
        ("xoxp-", 6, "slack-token", true), ("xoxo-", 6, "slack-token", true), ("xoxs-", 6, "slack-token", true),
        ("xoxr-", 6, "slack-token", true), ("xoxe-", 6, "slack-token", true), ("xoxe.", 6, "slack-token", true),
        ("sk_live_", 10, "api-key", false), ("sk_test_", 10, "api-key", false), ("rk_live_", 10, "api-key", false),
        ("rk_test_", 10, "api-key", false), ("whsec_", 10, "webhook-secret", false),
    ].map { (Array($0.0.utf8), $0.1, $0.2, $0.3) }
    private static let slackWebhookPrefixes = ["https://hooks.slack.com/", "http://hooks.slack.com/"].map { Array($0.utf8) }
    private static let bearerWord = Array("bearer ".utf8)

    /// A token that is a secret by its shape, at `index`: (its length, what it is).
    private func secretToken(at index: Int) -> (Int, String)? {
        let byte = bytes[index]
        switch byte {
        case UInt8(ascii: "A"):
            if hasPrefix("AKIA", at: index) || hasPrefix("ASIA", at: index) {
                let length = run(from: index + 4, while: Self.isUpperAlphanumeric)
                if length == 16, !Self.isWordByte(at: index + 20, in: bytes) { return (20, "aws-access-key-id") }
            }
        case UInt8(ascii: "e"):
            if let length = jwt(at: index) { return (length, "jwt") }
        case UInt8(ascii: "h"):
            for prefix in Self.slackWebhookPrefixes where hasPrefix(prefix, at: index) {
                let length = run(from: index) { $0 > 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") }
                return (length, "slack-webhook")
            }
        case UInt8(ascii: "B"), UInt8(ascii: "b"):
            if hasPrefixIgnoringCase(Self.bearerWord, at: index) {
                let start = index + Self.bearerWord.count
                let length = run(from: start) { Self.isAlphanumeric($0) || "-._~+/=".utf8.contains($0) }
                if length >= 8 { return (Self.bearerWord.count + length, "bearer") }
            }
        default: break
        }
        guard byte == UInt8(ascii: "g") || byte == UInt8(ascii: "n") || byte == UInt8(ascii: "x")
            || byte == UInt8(ascii: "s") || byte == UInt8(ascii: "r") || byte == UInt8(ascii: "w")
        else { return nil }
        for token in Self.tokenPrefixes where token.prefix[0] == byte && hasPrefix(token.prefix, at: index) {
            let length = run(from: index + token.prefix.count) {
                Self.isAlphanumeric($0) || $0 == UInt8(ascii: "_") || (token.allowsDash && $0 == UInt8(ascii: "-"))
            }
            if length >= token.minimum { return (token.prefix.count + length, token.kind) }
        }
        return nil
    }

    /// `eyJ….eyJ….signature`: a JSON Web Token (its header and claims are base64url JSON).
    private func jwt(at index: Int) -> Int? {
        guard hasPrefix("eyJ", at: index) else { return nil }
        let base64URL: (UInt8) -> Bool = { Self.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        var end = index
        for part in 0..<3 {
            let length = run(from: end, while: base64URL)
            guard length >= (part == 2 ? 8 : 10) else { return nil }
            end += length
            if part < 2 {
                guard end < bytes.count, bytes[end] == UInt8(ascii: ".") else { return nil }
                if part == 0, !hasPrefix("eyJ", at: end + 1) { return nil }
                end += 1
            }
        }
        return end - index
    }

    // MARK: URL passwords

    /// After `scheme://`: the password of `user:password@host` (the user may be empty, the
    /// password may hold `/`), as a range; nil when the URL has none.
    private func urlPassword(afterScheme start: Int) -> Range<Int>? {
        guard start >= 4, Self.isAlphanumeric(bytes[start - 4]) else { return nil }
        var index = start
        // The user: up to ':' (no '/', '@' or space).
        while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
            let byte = bytes[index]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "@") || !Self.isURLByte(byte) { return nil }
            index += 1
        }
        guard index < bytes.count else { return nil }
        let passwordStart = index + 1
        // The password ends at the last '@' before the URL does.
        var end = passwordStart
        var at: Int?
        while end < bytes.count, Self.isURLByte(bytes[end]) {
            if bytes[end] == UInt8(ascii: "@") { at = end }
            end += 1
        }
        guard let at, at > passwordStart else { return nil }
        let password = passwordStart..<at
        // `host:8080/path/@me` is a port and a path, not a password.
        let digits = run(from: passwordStart) { $0 >= 48 && $0 <= 57 }
        if digits > 0, passwordStart + digits < at, bytes[passwordStart + digits] == UInt8(ascii: "/") { return nil }
        if hasPrefix("[REDACTED", at: passwordStart) { return nil }
        return password
    }

    // MARK: Assignments to secret-named keys

    /// Where a key-like word that starts at `start` ends (letters, digits, `_`, `-`, `.`).
    private func keyEnd(from start: Int) -> Int { start + run(from: start, while: Self.isKeyByte) }

    /// The value assigned to `key` when the key is secret-named: `KEY=value`, `KEY: value`,
    /// `"key": "value"`, `--key value`.
    private func assignedValue(key: Range<Int>) -> Range<Int>? {
        var index = key.upperBound
        guard index < bytes.count else { return nil }
        let quotedKey = key.lowerBound > 0 && bytes[key.lowerBound - 1] == UInt8(ascii: "\"")
        if quotedKey, bytes[index] == UInt8(ascii: "\"") { index += 1 }
        let flag = bytes[key.lowerBound] == UInt8(ascii: "-")
        var separated = false
        var spaces = run(from: index) { $0 == 0x20 || $0 == 0x09 }
        index += spaces
        if index < bytes.count, bytes[index] == UInt8(ascii: "=") {
            separated = true
            index += 1
        } else if index < bytes.count, bytes[index] == UInt8(ascii: ":"), !flag {
            // `password: x` or `"password":x`, but never the `:` inside an ARN or a URL.
            spaces = run(from: index + 1) { $0 == 0x20 || $0 == 0x09 }
            guard spaces > 0 || quotedKey else { return nil }
            separated = true
            index += 1
        } else if flag, spaces == 1 {
            separated = true
        }
        guard separated else { return nil }
        guard isSecretKey(key) else { return nil }
        index += run(from: index) { $0 == 0x20 || $0 == 0x09 }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
            let quote = bytes[index]
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != quote, bytes[end] != 0x0A {
                end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
            }
            end = min(end, bytes.count)
            guard end > start, !hasPrefix("[REDACTED", at: start) else { return nil }
            return start..<end
        }
        if bytes[index] == UInt8(ascii: "-") && flag { return nil }
        var start = index
        // `Authorization: Bearer x`: the scheme word stays, the credential goes.
        let schemeLength = run(from: start, while: Self.isAlphanumeric)
        if schemeLength > 0, start + schemeLength < bytes.count, bytes[start + schemeLength] == 0x20,
            ["bearer", "basic", "token", "digest"].contains(String(decoding: bytes[start..<start + schemeLength], as: UTF8.self).lowercased())
        {
            start += schemeLength + 1
        }
        let length = run(from: start) {
            $0 > 0x20 && $0 != UInt8(ascii: "&") && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'")
                && $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "}") && $0 != UInt8(ascii: "]")
        }
        guard length > 0, !hasPrefix("[REDACTED", at: start) else { return nil }
        return start..<start + length
    }

    private func isSecretKey(_ key: Range<Int>) -> Bool {
        var start = key.lowerBound
        while start < key.upperBound, bytes[start] == UInt8(ascii: "-") { start += 1 }
        return Redactor.isSecretName(UnsafeBufferPointer(rebasing: bytes[start..<key.upperBound]))
    }

    // MARK: Bytes

    private func run(from start: Int, while predicate: (UInt8) -> Bool) -> Int {
        var end = start
        while end < bytes.count, predicate(bytes[end]) { end += 1 }
        return end - start
    }

    private func hasPrefix(_ prefix: StaticString, at start: Int) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard start + count <= bytes.count else { return false }
        let pointer = prefix.utf8Start
        for offset in 0..<count where bytes[start + offset] != pointer[offset] { return false }
        return true
    }

    private func hasPrefix(_ prefix: [UInt8], at start: Int) -> Bool {
        guard start + prefix.count <= bytes.count else { return false }
        for offset in 0..<prefix.count where bytes[start + offset] != prefix[offset] { return false }
        return true
    }

    private func hasPrefixIgnoringCase(_ prefix: [UInt8], at start: Int) -> Bool {
        guard start + prefix.count <= bytes.count else { return false }
        for offset in 0..<prefix.count {
            var byte = bytes[start + offset]
            if byte >= 65 && byte <= 90 { byte += 32 }
            if byte != prefix[offset] { return false }
        }
        return true
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }

    static func isUpperAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90)
    }

    /// Letters and digits: what a token must not be glued to.
    static func isWordByte(_ byte: UInt8) -> Bool { isAlphanumeric(byte) }

    static func isWordByte(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        index < bytes.count && isAlphanumeric(bytes[index])
    }

    static func isKeyByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    static func isURLByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "<")
            && byte != UInt8(ascii: ">") && byte != 0x7F
    }
}
