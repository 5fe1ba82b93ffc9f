declare module 'hbs' {
  import type Handlebars from 'handlebars';
  interface Hbs {
    handlebars: typeof Handlebars;
    registerHelper(name: string, fn: (...args: never[]) => unknown): void;
    registerPartials(dir: string, options: { rename?: (name: string) => string }, done: () => void): void;
  }
  const hbs: Hbs;
  export default hbs;
}
