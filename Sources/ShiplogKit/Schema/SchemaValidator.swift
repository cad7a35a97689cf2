/// Validates JSON values against the JSON Schemas in `schema/` (embedded in the binary).
///
/// Implements the part of JSON Schema 2020-12 those files use: `type`, `properties`,
/// `required`, `additionalProperties`, `items`, `enum`, `const`, `minLength`, `maxLength`,
/// `minimum`, `maximum`, `$ref` (to `$defs` in the same or another embedded file) and `format`.
/// Formats are checked by code rather than regular expressions, which keeps validation fast:
/// `date-time`, `git-sha`, `image-digest`, `task-definition`, `digits`. Each schema is compiled
/// once into a tree of nodes, so validating an event costs a walk of its data, nothing more.
public final class SchemaValidator: @unchecked Sendable {
    private let documents: [String: JSON]
    private var compiled: [String: SchemaNode] = [:]
    private let lock = Lock()

    public static let shared: SchemaValidator = {
        var documents: [String: JSON] = [:]
        for (path, text) in EmbeddedSchema.jsonSchemas {
            // The embedded text is the committed schema; a parse failure is caught by the schema tests.
            let name = path.split(separator: "/").last.map(String.init) ?? path
            documents[name] = (try? JSONParser.parse(text)) ?? .null
        }
        return SchemaValidator(documents: documents)
    }()

    init(documents: [String: JSON]) {
        self.documents = documents
    }

    /// The names of the event types that have a schema.
    public var eventTypes: [String] {
        documents.keys.filter { $0 != "common.json" && $0 != "native-event.json" }
            .map { String($0.dropLast(".json".count)) }.sorted()
    }

    public func schema(named name: String) -> JSON? { documents[name] }

    /// Returns the first violation as `path: reason`, or nil when the value is valid.
    public func validate(_ value: JSON, against schemaName: String, path: String = "") -> String? {
        guard let node = lock.withLock({ node(for: schemaName + "#") }) else {
            return "\(path.isEmpty ? "(document)" : path): no schema named \(schemaName)"
        }
        guard let problem = node.check(value) else { return nil }
        let components = (path.isEmpty ? [] : [path]) + problem.path.reversed()
        var location = ""
        for component in components {
            if component.hasPrefix("[") || location.isEmpty { location += component } else { location += "." + component }
        }
        return "\(location.isEmpty ? "(document)" : location): \(problem.reason)"
    }

    /// Compiles (once) the schema at `reference` (`file#/json/pointer`).
    private func node(for reference: String) -> SchemaNode? {
        if let cached = compiled[reference] { return cached }
        let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        guard var json = documents[String(parts[0])] else { return nil }
        if parts.count == 2 {
            for component in parts[1].split(separator: "/") {
                guard let next = json[String(component)] else { return nil }
                json = next
            }
        }
        let node = SchemaNode()
        compiled[reference] = node  // before compiling children, so a recursive $ref terminates
        node.compile(json, file: String(parts[0]), resolve: { self.node(for: $0) })
        return node
    }

    /// Checks one of the formats the schemas use; returns the problem or nil.
    public static func checkFormat(_ text: String, _ format: String) -> String? {
        switch format {
        case "date-time":
            return Timestamp(iso8601: text) == nil ? "\"\(text.prefix(40))\" is not an RFC 3339 time" : nil
        case "git-sha":
            let valid = (7...64).contains(text.utf8.count) && text.utf8.allSatisfy(isLowerHex)
            return valid ? nil : "\"\(text.prefix(70))\" is not a commit sha (7 to 40 lowercase hex digits)"
        case "image-digest":
            return ImageReference.isDigest(text) ? nil : "\"\(text.prefix(80))\" is not an image digest (sha256:<hex>)"
        case "task-definition":
            return TaskDefinitionID(text) == nil ? "\"\(text.prefix(80))\" is not a task definition (family:revision)" : nil
        case "digits":
            return !text.isEmpty && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } ? nil : "\"\(text.prefix(40))\" is not a number"
        default:
            return nil
        }
    }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102)
    }
}

/// A violation found deep in a value; the path is collected on the way back up.
struct SchemaProblem {
    var path: [String]
    let reason: String
}

/// One compiled schema object.
final class SchemaNode {
    enum Kind { case object, array, string, integer, number, boolean, null }
    enum Additional { case allowed, forbidden, schema(SchemaNode) }

    private var reference: SchemaNode?
    private var constant: JSON?
    private var options: [JSON]?
    private var kind: Kind?
    private var kindName = ""
    private var minLength: Int?
    private var maxLength: Int?
    private var minimum: Int64?
    private var maximum: Int64?
    private var format: String?
    private var items: SchemaNode?
    private var required: [String] = []
    private var properties: [String: SchemaNode] = [:]
    private var additional = Additional.allowed

    func compile(_ json: JSON, file: String, resolve: (String) -> SchemaNode?) {
        guard case .object(let rules) = json else { return }
        if let target = rules["$ref"]?.string {
            let absolute = target.hasPrefix("#") ? file + target : target
            reference = resolve(absolute.contains("#") ? absolute : absolute + "#")
        }
        constant = rules["const"]
        options = rules["enum"]?.array
        if let type = rules["type"]?.string {
            kindName = type
            kind = [
                "object": .object, "array": .array, "string": .string, "integer": .integer, "number": .number,
                "boolean": .boolean, "null": .null,
            ][type]
        }
        minLength = rules["minLength"]?.int.map(Int.init)
        maxLength = rules["maxLength"]?.int.map(Int.init)
        minimum = rules["minimum"]?.int
        maximum = rules["maximum"]?.int
        format = rules["format"]?.string
        func child(_ json: JSON) -> SchemaNode {
            let node = SchemaNode()
            node.compile(json, file: file, resolve: resolve)
            return node
        }
        if let itemRules = rules["items"] { items = child(itemRules) }
        required = rules["required"]?.array?.compactMap(\.string) ?? []
        for member in rules["properties"]?.object ?? JSONObject() { properties[member.key] = child(member.value) }
        switch rules["additionalProperties"] {
        case .bool(false)?: additional = .forbidden
        case .object?: additional = .schema(child(rules["additionalProperties"]!))
        default: additional = .allowed
        }
    }

    func check(_ value: JSON) -> SchemaProblem? {
        if let reference, let problem = reference.check(value) { return problem }
        if let constant, constant != value {
            return SchemaProblem(path: [], reason: "must be \(JSONWriter.compact(constant))")
        }
        if let options, !options.contains(value) {
            let listed = options.prefix(12).map(JSONWriter.compact).joined(separator: ", ")
            return SchemaProblem(path: [], reason: "\(Self.describe(value)) is not one of \(listed)\(options.count > 12 ? ", …" : "")")
        }
        if let kind, !Self.matches(value, kind) {
            let expected = kind == .integer ? "an integer" : kind == .object || kind == .array ? "an \(kindName)" : "a \(kindName)"
            return SchemaProblem(path: [], reason: "expected \(expected), found \(Self.describe(value))")
        }
        switch value {
        case .string(let text):
            if minLength != nil || maxLength != nil {
                let length = text.count
                if let minLength, length < minLength {
                    return SchemaProblem(path: [], reason: minLength == 1 ? "must not be empty" : "shorter than \(minLength) characters")
                }
                if let maxLength, length > maxLength { return SchemaProblem(path: [], reason: "longer than \(maxLength) characters") }
            }
            if let format, let problem = SchemaValidator.checkFormat(text, format) { return SchemaProblem(path: [], reason: problem) }
        case .number(let text):
            if let minimum, let number = Int64(text), number < minimum {
                return SchemaProblem(path: [], reason: "must be at least \(minimum)")
            }
            if let maximum, let number = Int64(text), number > maximum {
                return SchemaProblem(path: [], reason: "must be at most \(maximum)")
            }
        case .array(let elements):
            if let items {
                for (index, element) in elements.enumerated() {
                    if var problem = items.check(element) {
                        problem.path.append("[\(index)]")
                        return problem
                    }
                }
            }
        case .object(let object):
            for name in required where object[name] == nil {
                return SchemaProblem(path: [name], reason: "required")
            }
            for member in object.members {
                if let property = properties[member.key] {
                    if var problem = property.check(member.value) {
                        problem.path.append(member.key)
                        return problem
                    }
                    continue
                }
                switch additional {
                case .allowed: continue
                case .forbidden: return SchemaProblem(path: [member.key], reason: "not allowed here")
                case .schema(let node):
                    if var problem = node.check(member.value) {
                        problem.path.append(member.key)
                        return problem
                    }
                }
            }
        default:
            break
        }
        return nil
    }

    static func matches(_ value: JSON, _ kind: Kind) -> Bool {
        switch (kind, value) {
        case (.object, .object), (.array, .array), (.string, .string), (.boolean, .bool), (.null, .null), (.number, .number):
            return true
        case (.integer, .number(let text)):
            return !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        default:
            return false
        }
    }

    static func describe(_ value: JSON) -> String {
        switch value {
        case .string(let text): return text.count > 40 ? "\"\(text.prefix(40))…\"" : "\"\(text)\""
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
