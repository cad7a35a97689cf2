import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// Every payload in ../shared/fixtures (real documents collected from vendors' docs and captures),
/// each ingested into a fresh store: it must be stored, or ignored or rejected for a stated reason.
@Suite struct SharedFixturesConformanceTests {
    static let root = packageRoot() + "/../shared/fixtures"

    /// Files shiplog must refuse, and why (the shared set holds doc placeholders and non-events).
    static let rejected: [String: String] = [
        "aws-cli/00a-ec2-create-vpc.json": "unrecognized document",
        "aws-cli/00b-ec2-create-subnet.json": "unrecognized document",
        "aws-cli/00c-ec2-create-security-group.json": "unrecognized document",
        "aws-eventbridge/autoscaling.ec2-instance-launch-successful.json": "not RFC 3339 times (yyyy-mm-ddThh:mm:ssZ)",
        "aws-eventbridge/autoscaling.ec2-instance-launch-unsuccessful.json": "not RFC 3339 times",
        "aws-eventbridge/autoscaling.ec2-instance-terminate-successful.json": "not RFC 3339 times",
        "docker-build/buildx.metadata-file.json": "unrecognized document",
        "docker-build/metadata-action.bake-file.tag-v1.2.3.json": "unrecognized document",
        "github/actions-runner-env.push-master.json": "unrecognized document",
        "github/workflow_run.in_progress.dynamic-event.headers.json": "unrecognized document",
        "slack/incoming-webhook.blocks-commit-button.template.json": "unrecognized document",
        "slack/incoming-webhook.ci-status.template.json": "unrecognized document",
    ]

    /// Files that are valid but record no pipeline change.
    static let ignored: Set<String> = [
        "aws-cli/01-ecr-create-repository.json", "aws-cli/06-ecs-create-cluster.json",
        "aws-cli/moto-latest-retag/01-ecr-create-repository.json", "aws-cli/moto-latest-retag/12-ecs-create-cluster.json",
        "aws-cli/moto-latest-retag/13-ecs-describe-services-missing.json",
        "aws-cli/application-autoscaling/application-autoscaling.describe-scaling-activities.ecs.not-scaled.json",
        "aws-cli/service-deployments/ecs.describe-service-deployments.SUCCESSFUL.json",
        "aws-cli/service-deployments/ecs.describe-service-revisions.json",
        "aws-cli/service-deployments/ecs.list-service-deployments.json",
        "aws-cloudtrail/ecr.BatchGetImage.json", "aws-cloudtrail/ecr.CreateRepository.json", "aws-cloudtrail/ecs.CreateCluster.json",
        "aws-eventbridge/application-autoscaling.aws-api-call-via-cloudtrail.RegisterScalableTarget.json",
        "aws-eventbridge/application-autoscaling.scaling-activity-state-change.scaled-to-max.json",
        "aws-eventbridge/ecr.image-scan.json", "cdevents/artifact_packaged.json", "cdevents/artifact_published.json",
        "cdevents/v0.4.1/artifact_packaged.json", "cdevents/v0.4.1/artifact_published.json", "github/workflow_dispatch.json",
    ]

    @Test func everySharedPayloadIsStoredIgnoredOrRejectedWithAReason() throws {
        guard FileManager.default.fileExists(atPath: Self.root) else {
            print("SharedFixturesConformanceTests: skipped — \(Self.root) is not there (it exists only beside the project checkout)")
            return
        }
        let files = try Ingestor.expand([Self.root]).filter { !$0.contains("/input/") }
        #expect(files.count > 100)
        var stored = 0
        for file in files {
            let name = String(file.dropFirst(Self.root.count + 1))
            let directory = TemporaryDirectory()
            let store = try EventStore(path: directory.file("store.db"), mode: .create)
            var rejections: [String] = []
            let report = try Ingestor(store: store, options: IngestOptions()).ingest(files: [file]) {
                rejections.append($0.description)
            }
            if let reason = Self.rejected[name] {
                #expect(report.rejected == 1 && rejections.first?.contains(reason) == true, "\(name): \(rejections)")
                #expect(rejections.first?.hasPrefix(file + ":") == true)
            } else if Self.ignored.contains(name) {
                #expect(report.appended == 0 && report.ignoredCount == 1 && report.rejected == 0, "\(name): \(report.ignored)")
            } else {
                #expect(report.rejected == 0 && report.appended >= 1, "\(name): \(rejections)")
                #expect(try store.verify().ok)
                stored += 1
            }
        }
        #expect(stored > 80)
    }
}
