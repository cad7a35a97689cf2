import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// The EventBridge rules README's "Run it live" creates: their patterns must let through every
/// event shiplog records, and the CloudTrail calls it reads.
@Suite struct LiveSetupTests {
    static func pattern(_ name: String) throws -> JSON {
        try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: packageRoot() + "/tools/live/" + name))),
                             rejectsDuplicateKeys: true)
    }

    /// EventBridge's matching for the subset the patterns use: a list matches when the event's
    /// value (or one of its values) is in it; an object matches member by member.
    static func matches(_ pattern: JSON, _ event: JSON?) -> Bool {
        switch pattern {
        case .object(let members):
            return members.allSatisfy { member in matches(member.value, event?[member.key]) }
        case .array(let allowed):
            guard let event else { return false }
            if case .array(let values) = event { return values.contains { allowed.contains($0) } }
            return allowed.contains(event)
        default:
            return false
        }
    }

    @Test func everyEventShiplogRecordsPassesARuleAndNothingElseNeedsTo() throws {
        let patterns = [try Self.pattern("eventbridge-pattern.service-events.json"), try Self.pattern("eventbridge-pattern.api-calls.json")]
        var recorded = 0
        for file in try Fixtures.documents(in: ["aws-eventbridge"]) {
            let relative = String(file.dropFirst(Fixtures.root.count + 1))
            let event = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
            let outcome = try #require(try Fixtures.normalize(relative).first)
            let passes = patterns.contains { Self.matches($0, event) }
            if case .success(.some) = outcome {
                recorded += 1
                #expect(passes, "\(relative) is recorded by shiplog but no rule sends it")
            }
        }
        #expect(recorded > 15)
    }

    @Test func theAPICallRuleSendsEveryCloudTrailCallShiplogReads() throws {
        let pattern = try Self.pattern("eventbridge-pattern.api-calls.json")
        var read = 0
        for file in try Fixtures.documents(in: ["aws-cloudtrail"]) where !file.hasSuffix("cloudtrail-log-file.json") {
            let relative = String(file.dropFirst(Fixtures.root.count + 1))
            let record = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
            let source = record["eventSource"]?.string == "ecr.amazonaws.com" ? "aws.ecr" : "aws.ecs"
            let event: JSON = ["source": .string(source), "detail-type": "AWS API Call via CloudTrail", "detail": record]
            guard case .success(.some) = try #require(try Fixtures.normalize(relative).first) else { continue }
            read += 1
            #expect(Self.matches(pattern, event), "\(relative) is read by shiplog but the rule does not send it")
        }
        #expect(read >= 8)
        let describe: JSON = ["source": "aws.ecs", "detail-type": "AWS API Call via CloudTrail",
                              "detail": ["eventSource": "ecs.amazonaws.com", "eventName": "DescribeServices"]]
        #expect(!Self.matches(pattern, describe), "read-only calls stay out")
    }
}
