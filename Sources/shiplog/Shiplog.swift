import ArgumentParser
import ShiplogKit

#if canImport(Glibc)
    import Glibc
#endif

@main
struct Shiplog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shiplog",
        abstract: "The deployment history of a container pipeline, as an append-only event log.",
        discussion: """
            shiplog keeps git pushes, CI builds, ECR images, ECS task definitions, deployments, \
            scaling and notifications in one tamper-evident log (SQLite, LZ4), and answers what \
            ran where, when, by whom and from which commit.

            The store is --db PATH, else $SHIPLOG_DB, else $XDG_DATA_HOME/shiplog/shiplog.db \
            (~/.local/share/shiplog/shiplog.db). Times are RFC 3339 UTC.

            Exit status: 0 ok, 1 error, 2 usage, 3 input rejected, 4 integrity failure.
            """,
        subcommands: [
            Init.self, Ingest.self, Record.self, Events.self, Where.self, History.self, Trace.self, Diff.self, Rollback.self,
            MarkBad.self, Audit.self, Metrics.self, Report.self, Export.self, Verify.self, Anchor.self, Keygen.self, Rebuild.self, Stats.self, Demo.self,
            Serve.self,
        ])

    /// `--db` is global: `shiplog --db x.db where` means `shiplog where --db x.db`.
    static func globalOptionsMovedAfterSubcommand(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--db", index + 1 < arguments.count {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else if argument.hasPrefix("--db=") {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty, index < arguments.count else { return arguments }
        return [arguments[index]] + leading + arguments[(index + 1)...]
    }

    /// Runs the command and maps every failure to the documented exit status in one place.
    static func main() {
        // Past `ulimit -f` a write should fail and be reported, not kill the process mid-append.
        signal(SIGXFSZ, SIG_IGN)
        let status: Int32
        do {
            var command = try parseAsRoot(Self.globalOptionsMovedAfterSubcommand(Array(CommandLine.arguments.dropFirst())))
            try command.run()
            status = 0
        } catch let failure as CommandFailure {
            printError(failure.message)
            status = failure.status.rawValue
        } catch let error as StoreError {
            printError(error.description)
            status = ExitStatus.error.rawValue
        } catch let error as SystemError {
            printError(error.description)
            status = ExitStatus.error.rawValue
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                status = 0
            } else if code == .validationFailure {
                printError(fullMessage(for: error), prefix: false)
                status = ExitStatus.usage.rawValue
            } else if code == .failure, !(error is ExitCode) {
                printError(fullMessage(for: error))
                status = ExitStatus.error.rawValue
            } else {
                status = code.rawValue
            }
        }
        Terminal.flush()
        Glibc.exit(status)
    }
}
