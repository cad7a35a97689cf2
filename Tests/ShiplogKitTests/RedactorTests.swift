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
