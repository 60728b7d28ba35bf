import Foundation
import Yams

/// Reads a sweep from YAML, checking every key and value, so that mistakes are reported with
/// the line and key at fault instead of surfacing as failed trials hours later.
public struct SweepParser {
    public let file: String
    public var limits: SweepLimits

    public init(file: String, limits: SweepLimits = .standard) {
        self.file = file
        self.limits = limits
    }

    public static func parse(contentsOf url: URL, limits: SweepLimits = .standard) throws -> (SweepSpec, String) {
        let text = try SweepText.read(url, limits: limits)
        return (try SweepParser(file: url.path, limits: limits).parse(text), text)
    }

    /// Sweep names become a directory under `--runs` and stage names prefix trial ids (and so
    /// file names): a letter or digit first, no '/', and no "..", so neither can leave its directory.
    static let sweepNamePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
    static let stageNamePattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"

    public func parse(_ text: String) throws -> SweepSpec {
        let root = try compose(text)
        // `defaults` holds anchored mappings that stages merge (`<<: *common`); it makes no trials itself.
        let top = try mapping(root, "(document)", allowed: ["name", "seeds", "stages", "retries", "description", "defaults"])
        if let defaults = top["defaults"] { _ = try mapping(defaults, "defaults", allowed: nil) }
        guard let nameNode = top["name"] else { throw fail(root, "name", "missing: every sweep needs a name") }
        let name = try string(nameNode, "name")
        guard name.range(of: Self.sweepNamePattern, options: .regularExpression) != nil, !name.contains("..") else {
            throw fail(nameNode, "name", "\"\(name)\" must start with a letter or digit, hold only letters, digits, '.', '_' and '-', no \"..\", at most 128 characters (it names runs/<sweep>)")
        }
        var seeds = [0]
        if let node = top["seeds"] { seeds = try seedList(node, "seeds") }
        var retries = 2
        if let node = top["retries"] {
            retries = try int(node, "retries")
            guard retries >= 0 else { throw fail(node, "retries", "must be 0 or more") }
        }
        var counter = TrialCounter(limits: limits, seeds: seeds)
        let stages = try parseStages(top, root, existing: [], sweepSeeds: seeds, counter: &counter)
        return SweepSpec(name: name, seeds: seeds, stages: stages, retries: retries)
    }

    /// Stages to append to a stored run (`rt run --resume-dir RUN --append FILE`): a document
    /// with `stages:` (and an optional `description:`) only, whose `from:` may also name the
    /// run's `existing` stages. A stage may repeat an existing name; the store decides whether
    /// it is the same stage (nothing to add) or a conflict.
    ///
    /// `existingTrials` (the run's stored trials, when the caller has them) lets the trial limit
    /// count what the new stages make from them; without them only the new stages' own axes count.
    public func parseAppendix(_ text: String, existing: [String], existingTrials: [TrialSpec] = [], seeds: [Int] = [0]) throws -> [StageSpec] {
        let root = try compose(text)
        let top = try mapping(root, "(document)", allowed: ["stages", "description", "defaults"])
        if let defaults = top["defaults"] { _ = try mapping(defaults, "defaults", allowed: nil) }
        var counter = TrialCounter(limits: limits, seeds: seeds, existing: existingTrials)
        return try parseStages(top, root, existing: existing, sweepSeeds: seeds, counter: &counter,
                               seedSets: StageSeeds.seedSets(of: existingTrials))
    }

    private func compose(_ text: String) throws -> Node {
        if let key = YAMLKeyCheck.firstNonTextKey(in: text) {
            throw SweepError(file: file, line: key.line, column: key.column, key: "(document)",
                             problem: "a mapping key must be text, not \(key.what) (refused before the document is built: such a key is compared by its whole expansion)")
        }
        do {
            guard let node = try Yams.compose(yaml: text) else { throw fail(nil, "(document)", "the file is empty") }
            if let beyond = YAMLExpansion.nodeBeyond(limits.maxNodes, in: node) {
                throw fail(beyond, "(document)", "expands to more than \(limits.maxNodes) YAML nodes (each *alias counts as a copy of what it names); refusing it before it is walked")
            }
            return node
        } catch let error as SweepError { throw error } catch let error as YamlError {
            throw yamlSyntax(error)
        } catch {
            throw SweepError(file: file, line: 0, column: 0, key: "(document)", problem: "not YAML: \(error)")
        }
    }

    private func parseStages(_ top: Node.Mapping, _ root: Node, existing: [String], sweepSeeds: [Int], counter: inout TrialCounter,
                             seedSets: [String: Set<Int>] = [:]) throws -> [StageSpec] {
        var seedSets = seedSets
        guard let stagesNode = top["stages"] else { throw fail(root, "stages", "missing: a sweep needs at least one stage") }
        let stageNodes = try sequence(stagesNode, "stages")
        guard !stageNodes.isEmpty else { throw fail(stagesNode, "stages", "an empty list would make no trials") }
        var stages: [StageSpec] = []
        for (index, node) in stageNodes.enumerated() {
            let stage = try parseStage(node, "stages[\(index)]", earlier: existing + stages.map(\.name), sweepSeeds: sweepSeeds, seedSets: seedSets)
            if stages.contains(where: { $0.name == stage.name }) {
                throw fail(node, "stages[\(index)].name", "a stage named \"\(stage.name)\" already exists")
            }
            // Counted stage by stage, so a sweep too large fails at the first stage that makes
            // it so, before the expander builds a single trial.
            let (made, total) = counter.add(stage)
            if total > limits.maxTrials {
                let own = made > limits.maxTrials ? "more than \(limits.maxTrials)" : "\(made)"
                throw fail(node, "stages[\(index)]", "makes \(own) trials, which takes the sweep past \(limits.trialLimitText)")
            }
            stages.append(stage)
            seedSets[stage.name] = Set(StageSeeds.seeds(of: stage, sweepSeeds: sweepSeeds))
        }
        return stages
    }

    private func parseStage(_ node: Node, _ path: String, earlier: [String], sweepSeeds: [Int], seedSets: [String: Set<Int>]) throws -> StageSpec {
        let map = try mapping(node, path, allowed: ["name", "job", "parameters", "grid", "random", "from", "inherit", "retries", "replicas",
                                                    "seeds", "from_seed"])
        guard let nameNode = map["name"] else { throw fail(node, "\(path).name", "missing: every stage needs a name") }
        let name = try string(nameNode, "\(path).name")
        guard name.range(of: Self.stageNamePattern, options: .regularExpression) != nil else {
            throw fail(nameNode, "\(path).name", "\"\(name)\" must start with a letter or digit and hold only letters, digits, '_' and '-', at most 128 characters (it prefixes trial ids)")
        }
        guard let jobNode = map["job"] else { throw fail(node, "\(path).job", "missing: which job type runs this stage?") }
        let job = try string(jobNode, "\(path).job")
        var parameters: [String: JSONValue] = [:]
        if let p = map["parameters"] {
            for (key, value) in try mapping(p, "\(path).parameters", allowed: nil) {
                let k = try string(key, "\(path).parameters")
                parameters[k] = try json(value, "\(path).parameters.\(k)")
            }
        }
        var grid: [GridAxis] = []
        var points = 1
        if let g = map["grid"] {
            for (key, value) in try mapping(g, "\(path).grid", allowed: nil) {
                let k = try string(key, "\(path).grid")
                let keyPath = "\(path).grid.\(k)"
                if parameters[k] != nil { throw fail(key, keyPath, "is also a fixed parameter; give it in one place") }
                let axis = GridAxis(name: k, values: try gridValues(value, keyPath))
                // The product is checked axis by axis: a 10^12 grid fails here, not in the expander.
                points = limits.product(points, axis.values.count)
                if points > limits.maxTrials {
                    throw fail(key, keyPath, "the grid up to this axis has more than \(limits.maxTrials) points, past \(limits.trialLimitText)")
                }
                grid.append(axis)
            }
        }
        var random: RandomAxes?
        if let r = map["random"] {
            random = try parseRandom(r, "\(path).random", taken: Set(parameters.keys).union(grid.map(\.name)))
            if limits.product(points, random!.count) > limits.maxTrials {
                throw fail(r, "\(path).random", "\(points) grid points x \(random!.count) samples is past \(limits.trialLimitText)")
            }
        }
        var from: [String] = []
        if let f = map["from"] { from = try parents(f, "\(path).from", earlier: earlier) }
        var inherit: [String]?
        if let node = map["inherit"] {
            guard !from.isEmpty else { throw fail(node, "\(path).inherit", "needs from: (it copies parameters from the parent trial)") }
            inherit = try sequence(node, "\(path).inherit").enumerated().map { try string($1, "\(path).inherit[\($0)]") }
        }
        var retries: Int?
        if let r = map["retries"] {
            retries = try int(r, "\(path).retries")
            guard retries! >= 0 else { throw fail(r, "\(path).retries", "must be 0 or more") }
        }
        var replicas = 1
        if let r = map["replicas"] {
            replicas = try int(r, "\(path).replicas")
            guard (1...256).contains(replicas) else { throw fail(r, "\(path).replicas", "must be in 1...256, got \(replicas)") }
        }
        let seeds = try map["seeds"].map { try seedList($0, "\(path).seeds") }
        var fromSeed: Int?
        if let node = map["from_seed"] {
            guard !from.isEmpty else { throw fail(node, "\(path).from_seed", "needs from: (it names the parent seed to start from)") }
            fromSeed = try int(node, "\(path).from_seed")
        }
        let stage = StageSpec(name: name, job: job, parameters: parameters, grid: grid, random: random, from: from, inherit: inherit,
                              retries: retries, replicas: replicas, seeds: seeds, fromSeed: fromSeed)
        if let problem = StageSeeds.problem(with: stage, sweepSeeds: sweepSeeds, parentSeeds: seedSets) {
            // Pointed at what the user would change: the stage's own seeds, else from_seed, else from.
            let (key, at) = map["seeds"].map { ("seeds", $0) } ?? map["from_seed"].map { ("from_seed", $0) } ?? ("from", map["from"] ?? node)
            throw fail(at, "\(path).\(key)", problem)
        }
        return stage
    }

    /// `seeds: [1, 2, 3]` (distinct whole numbers) or `seeds: 3` (a count: 1, 2, 3).
    private func seedList(_ node: Node, _ path: String) throws -> [Int] {
        if case .scalar = node {
            let count = try int(node, path)
            guard (1...limits.maxTrials).contains(count) else {
                throw fail(node, path, "a count of seeds must be in 1...\(limits.maxTrials), got \(count)")
            }
            return Array(1...count)
        }
        let seeds = try sequence(node, path).enumerated().map { try int($1, "\(path)[\($0)]") }
        guard !seeds.isEmpty else { throw fail(node, path, "an empty list would make no trials") }
        guard Set(seeds).count == seeds.count else { throw fail(node, path, "repeats a seed") }
        return seeds
    }

    /// `from: a` or `from: [a, b]`: stages that come earlier, each named once.
    private func parents(_ node: Node, _ path: String, earlier: [String]) throws -> [String] {
        let items: [(Node, String)]
        if case .sequence = node {
            items = try sequence(node, path).enumerated().map { ($1, "\(path)[\($0)]") }
            guard !items.isEmpty else { throw fail(node, path, "an empty list names no parent; leave from: out for a root stage") }
        } else {
            items = [(node, path)]
        }
        var names: [String] = []
        for (item, itemPath) in items {
            let name = try string(item, itemPath)
            guard earlier.contains(name) else { throw fail(item, itemPath, "no earlier stage is named \"\(name)\"") }
            guard !names.contains(name) else { throw fail(item, itemPath, "names \"\(name)\" twice") }
            names.append(name)
        }
        return names
    }

    /// A list of values, or `{range: [start, stop]}` / `{range: [start, stop, step]}` (stop excluded).
    private func gridValues(_ node: Node, _ path: String) throws -> [JSONValue] {
        if case .mapping = node {
            let map = try mapping(node, path, allowed: ["range"])
            guard let rangeNode = map["range"] else { throw fail(node, path, "expected a list or {range: [start, stop, step]}") }
            let bounds = try sequence(rangeNode, "\(path).range").enumerated().map { try int($1, "\(path).range[\($0)]") }
            guard bounds.count == 2 || bounds.count == 3 else {
                throw fail(rangeNode, "\(path).range", "expected [start, stop] or [start, stop, step], got \(bounds.count) numbers")
            }
            let step = bounds.count == 3 ? bounds[2] : 1
            guard step > 0, bounds[1] > bounds[0] else { throw fail(rangeNode, "\(path).range", "needs start < stop and step > 0") }
            // Counted before it is built: [0, 9223372036854775807] is a count, not a loop.
            let (span, overflow) = bounds[1].subtractingReportingOverflow(bounds[0])
            let count = overflow ? Int.max : span / step + (span % step == 0 ? 0 : 1)
            guard !overflow, count <= limits.maxTrials else {
                throw fail(rangeNode, "\(path).range", "makes \(overflow ? "more than \(Int.max)" : "\(count)") values, past \(limits.trialLimitText)")
            }
            return stride(from: bounds[0], to: bounds[1], by: step).map { .int($0) }
        }
        let values = try sequence(node, path).enumerated().map { try json($1, "\(path)[\($0)]") }
        guard !values.isEmpty else { throw fail(node, path, "an empty axis would make no trials") }
        return values
    }

    private func parseRandom(_ node: Node, _ path: String, taken: Set<String>) throws -> RandomAxes {
        let map = try mapping(node, path, allowed: ["count", "seed", "axes"])
        guard let countNode = map["count"] else { throw fail(node, "\(path).count", "missing: how many samples?") }
        let count = try int(countNode, "\(path).count")
        guard count > 0 else { throw fail(countNode, "\(path).count", "must be at least 1") }
        guard count <= limits.maxTrials else { throw fail(countNode, "\(path).count", "\(count) samples is past \(limits.trialLimitText)") }
        var seed: UInt64 = 0
        if let s = map["seed"] {
            let value = try int(s, "\(path).seed")
            guard value >= 0 else { throw fail(s, "\(path).seed", "must be 0 or more") }
            seed = UInt64(value)
        }
        guard let axesNode = map["axes"] else { throw fail(node, "\(path).axes", "missing: which parameters to sample?") }
        var axes: [RandomAxis] = []
        for (key, value) in try mapping(axesNode, "\(path).axes", allowed: nil) {
            let name = try string(key, "\(path).axes")
            let axisPath = "\(path).axes.\(name)"
            if taken.contains(name) { throw fail(key, axisPath, "is already a fixed parameter or grid axis") }
            let spec = try mapping(value, axisPath, allowed: ["uniform", "log_uniform", "choice"])
            guard spec.count == 1, let (kind, arguments) = spec.first.map({ ($0.key, $0.value) }) else {
                throw fail(value, axisPath, "give exactly one of uniform, log_uniform, choice")
            }
            let kindName = try string(kind, axisPath)
            let argumentPath = "\(axisPath).\(kindName)"
            switch kindName {
            case "choice":
                let options = try sequence(arguments, argumentPath).enumerated().map { try json($1, "\(argumentPath)[\($0)]") }
                guard !options.isEmpty else { throw fail(arguments, argumentPath, "needs at least one option") }
                axes.append(RandomAxis(name: name, distribution: .choice(options)))
            default:
                let bounds = try sequence(arguments, argumentPath).enumerated().map { try number($1, "\(argumentPath)[\($0)]") }
                guard bounds.count == 2, bounds[0] < bounds[1] else {
                    throw fail(arguments, argumentPath, "expected [low, high] with low < high")
                }
                if kindName == "log_uniform" {
                    guard bounds[0] > 0 else { throw fail(arguments, argumentPath, "log_uniform needs low > 0") }
                    axes.append(RandomAxis(name: name, distribution: .logUniform(low: bounds[0], high: bounds[1])))
                } else {
                    axes.append(RandomAxis(name: name, distribution: .uniform(low: bounds[0], high: bounds[1])))
                }
            }
        }
        guard !axes.isEmpty else { throw fail(axesNode, "\(path).axes", "needs at least one axis") }
        return RandomAxes(count: count, seed: seed, axes: axes)
    }

    // MARK: Typed node access: each names the key and the line when the type is wrong.

    private func fail(_ node: Node?, _ key: String, _ problem: String) -> SweepError {
        SweepError(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, key: key, problem: problem)
    }

    private func yamlSyntax(_ error: YamlError) -> SweepError {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return SweepError(file: file, line: mark.line, column: mark.column, key: "(syntax)", problem: problem)
        case let .duplicatedKeysInMapping(duplicates, context):
            return SweepError(file: file, line: context.mark.line, column: context.mark.column,
                              key: duplicates.joined(separator: ", "), problem: "key appears twice in one mapping")
        default:
            return SweepError(file: file, line: 1, column: 1, key: "(syntax)", problem: "\(error)")
        }
    }

    private func kindName(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar: return "\"\(node.string ?? "")\""
        case .alias: return "an alias"
        }
    }

    private func mapping(_ node: Node, _ path: String, allowed: Set<String>?) throws -> Node.Mapping {
        guard case .mapping = node else { throw fail(node, path, "expected a mapping, got \(kindName(node))") }
        let map = try mergingKeys(node, path)
        var seen = Set<String>()
        for key in map.keys {
            guard let name = key.string else { throw fail(key, path, "keys must be text") }
            let keyPath = path == "(document)" ? name : "\(path).\(name)"
            if let allowed, !allowed.contains(name) {
                throw fail(key, keyPath, "unknown key; expected one of \(allowed.sorted().joined(separator: ", "))")
            }
            guard seen.insert(name).inserted else { throw fail(key, keyPath, "appears twice") }
        }
        return map
    }

    private func sequence(_ node: Node, _ path: String) throws -> [Node] {
        guard case let .sequence(items) = node else { throw fail(node, path, "expected a list, got \(kindName(node))") }
        return Array(items)
    }

    private func string(_ node: Node, _ path: String) throws -> String {
        guard case let .scalar(scalar) = node, !scalar.string.isEmpty else { throw fail(node, path, "expected text, got \(kindName(node))") }
        return scalar.string
    }

    private func int(_ node: Node, _ path: String) throws -> Int {
        guard case let .scalar(scalar) = node, scalar.style == .plain || scalar.style == .any, let value = node.int else {
            throw fail(node, path, "expected a whole number, got \(kindName(node))")
        }
        return value
    }

    private func number(_ node: Node, _ path: String) throws -> Double {
        guard case let .scalar(scalar) = node, scalar.style == .plain || scalar.style == .any, let value = node.float else {
            throw fail(node, path, "expected a number, got \(kindName(node))")
        }
        return value
    }

    private func json(_ node: Node, _ path: String) throws -> JSONValue {
        switch node {
        case let .scalar(scalar):
            guard scalar.style == .plain || scalar.style == .any else { return .string(scalar.string) }
            // Trust the YAML resolver's tag, not a lenient conversion: `0-4` is text (a class
            // range), although an octal-minded integer parser would read it as -4.
            switch node.tag.rawValue {
            case "tag:yaml.org,2002:int": if let i = node.int { return .int(i) }
            case "tag:yaml.org,2002:float": if let d = node.float { return .double(d) }
            case "tag:yaml.org,2002:bool": if let b = node.bool { return .bool(b) }
            case "tag:yaml.org,2002:null": return .null
            default: break
            }
            return .string(scalar.string)
        case let .sequence(items):
            return .array(try items.enumerated().map { try json($1, "\(path)[\($0)]") })
        case .mapping:
            var object: [String: JSONValue] = [:]
            for (key, value) in try mapping(node, path, allowed: nil) {
                let k = try string(key, path)
                object[k] = try json(value, "\(path).\(k)")
            }
            return .object(object)
        case .alias:
            throw fail(node, path, "aliases are not supported in sweep files")
        }
    }

    /// Resolves YAML merge keys (`<<: *defaults`, or a list of them), so stages can share
    /// parameters through an anchor: keys written in the mapping win over merged ones, and
    /// earlier merged mappings over later ones (the YAML merge-key rule).
    private func mergingKeys(_ node: Node, _ path: String) throws -> Node.Mapping {
        guard case let .mapping(map) = node else { throw fail(node, path, "expected a mapping, got \(kindName(node))") }
        var explicit: [(Node, Node)] = []
        var merged: [(Node, Node)] = []
        for (key, value) in map {
            guard key.string == "<<" else { explicit.append((key, value)); continue }
            let sources: [Node]
            switch value {
            case .mapping: sources = [value]
            case let .sequence(items): sources = Array(items)
            default: throw fail(value, "\(path).<<", "a merge key takes a mapping or a list of mappings, got \(kindName(value))")
            }
            for source in sources {
                guard case .mapping = source else { throw fail(source, "\(path).<<", "a merge key takes mappings, got \(kindName(source))") }
                for pair in try mergingKeys(source, path) where !merged.contains(where: { $0.0.string == pair.key.string }) {
                    merged.append((pair.key, pair.value))
                }
            }
        }
        let written = Set(explicit.compactMap { $0.0.string })
        return Node.Mapping(explicit + merged.filter { !written.contains($0.0.string ?? "") }, map.tag, map.style)
    }
}
