import ts from 'typescript';

/** What a top-level declaration introduces. */
export type DeclarationKind = 'value' | 'function' | 'class' | 'type' | 'import';

/** One name a top-level statement declares. */
export interface TopLevelName {
  name: string;
  kind: DeclarationKind;
  /** The node naming it (for positions). */
  node: ts.Node;
  statement: ts.Statement;
}

/** Names bound by a binding pattern (`const { a, b: [c] } = ...`). */
function bindingNames(name: ts.BindingName, out: ts.Identifier[]): void {
  if (ts.isIdentifier(name)) {
    out.push(name);
    return;
  }
  for (const element of name.elements) {
    if (ts.isBindingElement(element)) bindingNames(element.name, out);
  }
}

/** The names a top-level statement declares, with their kind. */
export function declaredNames(statement: ts.Statement): TopLevelName[] {
  const out: TopLevelName[] = [];
  const add = (id: ts.Identifier | undefined, kind: DeclarationKind) => {
    if (id) out.push({ name: id.text, kind, node: id, statement });
  };
  if (ts.isVariableStatement(statement)) {
    if (statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)) return out;
    for (const d of statement.declarationList.declarations) {
      const ids: ts.Identifier[] = [];
      bindingNames(d.name, ids);
      // A const bound to an arrow function or function expression is a function for our purposes.
      const init = d.initializer;
      const isFn = init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init));
      const isClass = init !== undefined && ts.isClassExpression(init);
      for (const id of ids) add(id, isFn ? 'function' : isClass ? 'class' : 'value');
    }
  } else if (ts.isFunctionDeclaration(statement)) add(statement.name, 'function');
  else if (ts.isClassDeclaration(statement)) add(statement.name, 'class');
  else if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) add(statement.name, 'type');
  else if (ts.isModuleDeclaration(statement) && ts.isIdentifier(statement.name)) add(statement.name, 'type');
  else if (ts.isImportDeclaration(statement)) {
    const clause = statement.importClause;
    if (clause?.name) add(clause.name, 'import');
    const bindings = clause?.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) add(bindings.name, 'import');
    if (bindings && ts.isNamedImports(bindings)) for (const el of bindings.elements) add(el.name, 'import');
  } else if (ts.isImportEqualsDeclaration(statement)) add(statement.name, 'import');
  return out;
}

/** True for statements hoisted into every task: imports and type-only declarations. */
export function isHoisted(statement: ts.Statement): 'import' | 'type' | undefined {
  if (ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement)) return 'import';
  if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) return 'type';
  if (ts.isModuleDeclaration(statement)) return 'type';
  return undefined;
}
