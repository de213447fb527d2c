import ts from 'typescript';
import { Diagnostic, JsonValue, ParamKind, ParamSpec } from '@cellgraph/schema';
import { lineColumn } from './parse-notebook';
import type { CodeCell } from './partition';

/** A parameter declaration found in the parameters cell, with what codegen rewrites. */
export interface ParamDecl {
  name: string;
  kind: ParamKind;
  default: JsonValue;
  constrained: boolean;
  /** For literal parameters: the initializer's range in the cell, replaced by `__cg.param(...)`. */
  literal?: { start: number; end: number; text: string };
}

/** Evaluates a literal initializer to JSON, or undefined when it is not a literal. */
function literalValue(node: ts.Expression): { value: JsonValue } | undefined {
  if (ts.isParenthesizedExpression(node)) return literalValue(node.expression);
  if (ts.isNumericLiteral(node)) return { value: Number(node.text) };
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return { value: node.text };
  if (node.kind === ts.SyntaxKind.TrueKeyword) return { value: true };
  if (node.kind === ts.SyntaxKind.FalseKeyword) return { value: false };
  if (node.kind === ts.SyntaxKind.NullKeyword) return { value: null };
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand)) {
    return { value: -Number(node.operand.text) };
  }
  if (ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) return literalValue(node.expression);
  if (ts.isArrayLiteralExpression(node)) {
    const out: JsonValue[] = [];
    for (const el of node.elements) {
      const v = literalValue(el);
      if (!v) return undefined;
      out.push(v.value);
    }
    return { value: out };
  }
  if (ts.isObjectLiteralExpression(node)) {
    const out: { [k: string]: JsonValue } = {};
    for (const p of node.properties) {
      if (!ts.isPropertyAssignment(p) || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) return undefined;
      const v = literalValue(p.initializer);
      if (!v) return undefined;
      out[p.name.text] = v.value;
    }
    return { value: out };
  }
  return undefined;
}

function kindOf(value: JsonValue): ParamKind {
  return typeof value === 'number' ? 'number' : typeof value === 'string' ? 'string' : typeof value === 'boolean' ? 'boolean' : 'json';
}

/**
 * Reads the parameters cell: top-level `const NAME = <literal>` and
 * `const NAME = param("NAME", schema, <literal>)`, plus imports. Anything else is an
 * error naming the line, because parameters must be known before anything runs.
 */
export function readParamsCell(cell: CodeCell, notebookPath: string): { params: ParamDecl[]; diagnostics: Diagnostic[] } {
  const sf = ts.createSourceFile('parameters.ts', cell.source, ts.ScriptTarget.ES2022, true);
  const params: ParamDecl[] = [];
  const diagnostics: Diagnostic[] = [];
  const error = (node: ts.Node, message: string) =>
    diagnostics.push({ severity: 'error', code: 'parameter', message, notebook: notebookPath, cell: cell.index, ...lineColumn(cell.source, node.getStart(sf)) });
  for (const statement of sf.statements) {
    if (ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement)) continue;
    if (!ts.isVariableStatement(statement) || !(statement.declarationList.flags & ts.NodeFlags.Const)) {
      error(statement, 'the parameters cell may contain only `const` declarations (and imports)');
      continue;
    }
    for (const d of statement.declarationList.declarations) {
      if (!ts.isIdentifier(d.name) || d.initializer === undefined) {
        error(d, 'each parameter is `const name = <literal>` or `const name = param("name", schema, <literal>)`');
        continue;
      }
      const name = d.name.text;
      const init = d.initializer;
      const lit = literalValue(init);
      if (lit) {
        params.push({ name, kind: kindOf(lit.value), default: lit.value, constrained: false, literal: { start: init.getStart(sf), end: init.getEnd(), text: init.getText(sf) } });
        continue;
      }
      if (ts.isCallExpression(init) && ts.isIdentifier(init.expression) && init.expression.text === 'param') {
        const [nameArg, , defaultArg] = init.arguments;
        if (!nameArg || !ts.isStringLiteral(nameArg) || nameArg.text !== name) {
          error(init, `param()'s first argument must be the string "${name}", the name of the constant it initializes`);
          continue;
        }
        const def = defaultArg ? literalValue(defaultArg) : undefined;
        if (!def) {
          error(init, `param("${name}", schema, default): the default must be a literal`);
          continue;
        }
        params.push({ name, kind: kindOf(def.value), default: def.value, constrained: true });
        continue;
      }
      error(init, `parameter "${name}" must be initialized with a literal or param("${name}", schema, <literal>)`);
    }
  }
  return { params, diagnostics };
}

/** The IR's parameter specs, with the checker's widened type texts. */
export function paramSpecs(decls: ParamDecl[], types: Map<string, string>, cell: number): ParamSpec[] {
  return decls.map((d) => ({
    name: d.name,
    kind: d.kind,
    type: types.get(d.name) ?? d.kind,
    default: d.default,
    constrained: d.constrained,
    cell
  }));
}
