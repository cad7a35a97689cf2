import ArgumentParser
import ShiplogKit

#if canImport(Glibc)
    import Glibc
#endif

/// `shiplog serve …` runs `shiplog-server …`, installed next to `shiplog`: the server links
/// Hummingbird, NIO and Foundation, which every other command would otherwise pay for when it
/// starts. The arguments (and `--help`) are the server's.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Receive GitHub webhooks, EventBridge events and native events over HTTP, and answer queries (see shiplog serve --help).",
        helpNames: [])

    @Argument(parsing: .allUnrecognized, help: "The server's options: shiplog serve --help.") var arguments: [String] = []

    func run() throws {
        let server = Self.serverPath()
        guard access(server, X_OK) == 0 else {
            throw CommandFailure("shiplog serve needs shiplog-server next to shiplog (\(server)): build it with `swift build` or install both")
        }
        Terminal.flush()
        let argv = ([server] + arguments).map { strdup($0) } + [nil]
        execv(server, argv)
        throw CommandFailure("cannot run \(server): \(System.errorText())")
    }

    /// The `shiplog-server` beside this executable.
    static func serverPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let me = length > 0 ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        let directory = me.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return (directory.isEmpty ? "." : directory) + "/shiplog-server"
    }
}
