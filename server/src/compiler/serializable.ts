import ts from 'typescript';

/** Built-in object types kernel-lib's codecs carry across a process boundary. */
const CARRIED = new Set([
  'Date',
  'RegExp',
  'ArrayBuffer',
  'Buffer',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'FileArtifact',
  'DirArtifact'
]);

/** Containers whose type arguments must be carried too. */
const CONTAINERS = new Set(['Map', 'Set', 'ReadonlyMap', 'ReadonlySet', 'ReadonlyArray', 'Array']);

const PRIMITIVE =
  ts.TypeFlags.Any |
  ts.TypeFlags.Unknown |
  ts.TypeFlags.String |
  ts.TypeFlags.Number |
  ts.TypeFlags.Boolean |
  ts.TypeFlags.BigInt |
  ts.TypeFlags.StringLiteral |
  ts.TypeFlags.NumberLiteral |
  ts.TypeFlags.BooleanLiteral |
  ts.TypeFlags.BigIntLiteral |
  ts.TypeFlags.EnumLike |
  ts.TypeFlags.Null |
  ts.TypeFlags.Undefined |
  ts.TypeFlags.Void |
  ts.TypeFlags.Never |
  ts.TypeFlags.TemplateLiteral;

/**
 * Why a value of this type cannot cross a process boundary, or undefined when it can:
 * data (primitives, arrays, tuples, plain objects), the built-ins kernel-lib's codecs
 * carry, artifacts, and classes registered with `registerCodec`. `any`/`unknown` pass:
 * the runtime codec catches what the types cannot tell.
 */
export function whyNotSerializable(checker: ts.TypeChecker, type: ts.Type, registeredClasses: ReadonlySet<string>): string | undefined {
  return walk(checker, type, registeredClasses, new Set(), 0);
}

function walk(checker: ts.TypeChecker, type: ts.Type, registered: ReadonlySet<string>, seen: Set<ts.Type>, depth: number): string | undefined {
  if (type.flags & PRIMITIVE) return undefined;
  if (type.flags & (ts.TypeFlags.ESSymbol | ts.TypeFlags.UniqueESSymbol)) return 'a symbol';
  if (seen.has(type) || depth > 12) return undefined;
  seen.add(type);
  if (type.isUnionOrIntersection()) {
    for (const t of type.types) {
      const why = walk(checker, t, registered, seen, depth + 1);
      if (why) return why;
    }
    return undefined;
  }
  if (type.flags & ts.TypeFlags.TypeParameter) return undefined;
  if (!(type.flags & ts.TypeFlags.Object)) return undefined;
  const symbolName = type.getSymbol()?.getName() ?? '';
  if (symbolName === 'Promise' || symbolName === 'PromiseLike') return 'a Promise (await it in the task that makes it)';
  if (CARRIED.has(symbolName)) return undefined;
  const args = checker.getTypeArguments(type as ts.TypeReference);
  if (checker.isArrayType(type) || checker.isTupleType(type) || CONTAINERS.has(symbolName)) {
    for (const a of args) {
      const why = walk(checker, a, registered, seen, depth + 1);
      if (why) return why;
    }
    return undefined;
  }
  if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) return 'a function';
  const symbol = type.getSymbol();
  if (symbol && symbol.flags & ts.SymbolFlags.Class) {
    return registered.has(symbolName) ? undefined : `an instance of class ${symbolName} with no codec (registerCodec(${symbolName}, …) in a setup cell)`;
  }
  for (const prop of type.getProperties()) {
    const decl = prop.valueDeclaration ?? prop.declarations?.[0];
    if (decl === undefined) continue;
    const propType = checker.getTypeOfSymbolAtLocation(prop, decl);
    const why = walk(checker, propType, registered, seen, depth + 1);
    if (why) return `${why} (property ${prop.getName()})`;
  }
  return undefined;
}
