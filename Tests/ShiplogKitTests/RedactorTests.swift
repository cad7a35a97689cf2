import ShiplogKit
import ShiplogTestSupport
import Testing

@Suite struct RedactorTests {
    func redact(_ text: String) throws -> (json: JSON, bytes: String) {
        let directory = TemporaryDirectory()
        let reader = try InputReader(path: directory.write("doc.json", text))
        guard case .document(let document) = try reader.next() else { throw AdapterError("not a document") }
        return (document.json, String(decoding: document.bytes, as: UTF8.self))
    }

    @Test func environmentValuesAreRedactedAndSecretReferencesKept() throws {
        let (json, bytes) = try redact("""
            {"containerDefinitions": [{"name": "app",
              "environment": [{"name": "DB_URL", "value": "postgres://app:hunter2@db:5432/app"}, {"name": "MODE", "value": "fast"}],
              "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:ap-northeast-2:1:parameter/db"}]}]}
            """)
        let container = json["containerDefinitions"]?[0]
        #expect(container?["environment"]?[0]?["value"]?.string == "[REDACTED:env]")
        #expect(container?["environment"]?[1]?["value"]?.string == "[REDACTED:env]")
        #expect(container?["environment"]?[0]?["name"]?.string == "DB_URL")
        #expect(container?["secrets"]?[0]?["valueFrom"]?.string == "arn:aws:ssm:ap-northeast-2:1:parameter/db")
        #expect(!bytes.contains("hunter2") && !bytes.contains("fast"))
        // Everything else stays byte for byte, layout included.
        #expect(bytes.contains("{\"name\": \"app\",\n  \"environment\""))
    }

    @Test func secretShapedValuesAreRedactedAnywhere() throws {
        let (json, bytes) = try redact("""
            {"message": "deploy with AKIAIOSFODNN7EXAMPLE and ghp_abcdefghijklmnopqrstuvwxyz0123456789",
             "hook": "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
             "remote": "https://deploy:s3cr3t-pass@git.example.com/repo.git",
             "cmd": "mysql --user=app password=letmein --host=db",
             "token": "abc", "Authorization": "Bearer xyz",
             "bot": "xoxb-1234567890-abcdefghij",
             "plain": "https://api.github.com/repos/o/r?per_page=100"}
            """)
        #expect(json["message"]?.string == "deploy with [REDACTED:aws-access-key-id] and [REDACTED:github-token]")
        #expect(json["hook"]?.string == "[REDACTED:slack-webhook]")
        #expect(json["remote"]?.string == "https://deploy:[REDACTED:password]@git.example.com/repo.git")
        #expect(json["cmd"]?.string == "mysql --user=app password=[REDACTED:secret] --host=db")
        #expect(json["token"]?.string == "[REDACTED:secret]")
        #expect(json["Authorization"]?.string == "[REDACTED:secret]")
        #expect(json["bot"]?.string == "[REDACTED:slack-token]")
        #expect(json["plain"]?.string == "https://api.github.com/repos/o/r?per_page=100")
        for secret in ["AKIAIOSFODNN7EXAMPLE", "ghp_abcdef", "XXXXXXXXXXXXXXXX", "s3cr3t-pass", "letmein", "xyz", "xoxb-1234"] {
            #expect(!bytes.contains(secret), "\(secret) survived")
        }
    }

    @Test func anEnvironmentThatIsNotAVariableListIsKept() throws {
        let (json, _) = try redact(#"{"subject": {"content": {"environment": {"id": "ML-PIPE"}}}, "deployment": {"environment": "alpha"}}"#)
        #expect(json["subject"]?["content"]?["environment"]?["id"] == "ML-PIPE")
        #expect(json["deployment"]?["environment"] == "alpha")
    }

    @Test func lookalikesAreLeftAlone() {
        #expect(Redactor.redactPatterns(in: "git@github.com:owner/repo.git") == nil)
        #expect(Redactor.redactPatterns(in: "https://api.github.com:443/repos") == nil)
        #expect(Redactor.redactPatterns(in: "AROAEXAMPLEROLEID12345:session") == nil)
        #expect(Redactor.redactPatterns(in: "arn:aws:ecs:us-west-2:111122223333:service/default/servicetest") == nil)
    }
}

@Suite struct RedactorClassTests {
    @Test(arguments: [
        ("export DB_PASSWORD=hunter2 && run", "export DB_PASSWORD=[REDACTED:secret] && run"),
        ("AWS_SECRET_ACCESS_KEY=abc/def+ghi AWS_SESSION_TOKEN=FwoGZXIvYXdz", "AWS_SECRET_ACCESS_KEY=[REDACTED:secret] AWS_SESSION_TOKEN=[REDACTED:secret]"),
        ("?client_secret=s3&scope=x", "?client_secret=[REDACTED:secret]&scope=x"),
        ("redis://:pw@cache:6379", "redis://:[REDACTED:password]@cache:6379"),
        ("https://u:pa/ss@git.example.com/r", "https://u:[REDACTED:password]@git.example.com/r"),
        ("Authorization: Bearer abcdefgh12345678", "Authorization: Bearer [REDACTED:secret]"),
        ("use Bearer abcdefgh12345678 here", "use [REDACTED:bearer] here"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlMDE", "[REDACTED:jwt]"),
        ("xapp-1-A012-345678901", "[REDACTED:slack-token]"), ("xoxp-1234-5678", "[REDACTED:slack-token]"),
        ("glpat-abcdefghij0123456789", "[REDACTED:gitlab-token]"),
        ("npm_abcdefghijklmnopqrstuvwxyz0123456789", "[REDACTED:npm-token]"),
        ("sk_live_abcdefghij12", "[REDACTED:api-key]"),
        ("mysql --password s3cret --user app", "mysql --password [REDACTED:secret] --user app"),
        ("--api-key=k3y", "--api-key=[REDACTED:secret]"),
        ("password: hunter2", "password: [REDACTED:secret]"),
        (#"{"db_password": "hunter2"}"#, #"{"db_password": "[REDACTED:secret]"}"#),
        ("key_AKIAIOSFODNN7EXAMPLE", "key_[REDACTED:aws-access-key-id]"),
        ("key: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "[REDACTED:private-key]"),
    ])
    func textSecretsAreRedacted(input: String, expected: String) {
        #expect(Redactor.redactedText(input) == expected)
    }

    @Test(arguments: [
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:ml-pipe/db-password-Ab12Cd",
        "arn:aws:ssm:ap-northeast-2:1:parameter/prod/db_password", "https://api.github.com:443/repos/o/r/@me",
        "PASSWORD_FILE=/run/secrets/db", "the token bucket refills", "git@github.com:owner/repo.git",
        "ecs-svc/1234567890123456789", "sha256:4a4400e7940c7b5d1f2f0a0c7e3f1b2a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f",
    ])
    func referencesAndLookalikesAreKept(input: String) {
        #expect(Redactor.redactPatterns(in: input) == nil)
    }

    @Test(arguments: ["password", "dbPassword", "db_password", "secretValue", "passphrase", "x-api-key", "access_key",
                      "AWS_SECRET_ACCESS_KEY", "clientSecret", "authorizationToken", "GITHUB_TOKEN", "auth", "credentials"])
    func secretNames(name: String) { #expect(Redactor.isSecretKey(name)) }

    @Test(arguments: ["secrets", "secretOptions", "secretArn", "valueFrom", "accessKeyId", "credentialsParameter", "tokenUrl",
                      "secretsManagerArn", "author", "mfaAuthenticated", "passwordFile", "environment"])
    func referenceNames(name: String) { #expect(!Redactor.isSecretKey(name)) }

    func parse(_ text: String) throws -> (json: JSON, bytes: String) {
        try RedactorTests().redact(text)
    }

    @Test func aValueOfAnyTypeUnderASecretNameGoesWhole() throws {
        let (json, bytes) = try parse(#"""
            {"password": 424242424242, "apiKey": ["k1", "k2"], "credentials": {"user": "u", "pass": "p"},
             "auths": {"r.example.com": {"auth": "dXNlcjpwdw==", "email": "e@x"}}, "token": null, "secret": "", "passwordSet": true,
             "environment": [{"name": "N", "value": 8080}], "Environment": [{"Name": "A", "Value": "cfn"}],
             "command": ["--password", "hunter2", "--port", "80"]}
            """#)
        #expect(json["password"] == "[REDACTED:secret]")
        #expect(json["apiKey"] == "[REDACTED:secret]")
        #expect(json["credentials"] == "[REDACTED:secret]")
        #expect(json["auths"]?["r.example.com"]?["auth"] == "[REDACTED:secret]")
        #expect(json["auths"]?["r.example.com"]?["email"] == "e@x")
        #expect(json["token"] == .null && json["secret"] == "" && json["passwordSet"] == .bool(true))
        #expect(json["environment"]?[0]?["value"] == "[REDACTED:env]")
        #expect(json["Environment"]?[0]?["Value"] == "[REDACTED:env]")
        #expect(json["command"] == ["--password", "[REDACTED:secret]", "--port", "80"])
        for secret in ["424242424242", "k1", "dXNlcjpwdw", "hunter2", "8080", "cfn"] { #expect(!bytes.contains(secret), "\(secret)") }
        // Parsing and walking a value in memory apply the same rules.
        let original = try JSONParser.parse(#"{"password": 424242424242, "command": ["--password", "hunter2"], "note": "token=abc"}"#)
        #expect(Redactor.redact(original).value == (try parse(JSONWriter.compact(original)).json))
    }

    @Test func aRawBodyIsRedactedAsTheDocumentItHolds() throws {
        let body = #"{"ref":"refs/heads/main","hook":{"config":{"secret":"hooksecret"}},"password":42}"#
        let (json, bytes) = try parse(JSONWriter.compact(["headers": ["X-GitHub-Event": "push"], "body": .string(body)]))
        let inner = try JSONParser.parse(try #require(json["body"]?.string))
        #expect(inner["hook"]?["config"]?["secret"] == "[REDACTED:secret]")
        #expect(inner["password"] == "[REDACTED:secret]")
        #expect(!bytes.contains("hooksecret"))
    }
}
