// Public types only: no runtime code. Split by topic under types/; everything is re-exported here.
export type * from './types/engine.ts'
export type * from './types/options.ts'
export type * from './types/schema.ts'
export type * from './types/session.ts'
export type * from './types/store.ts'
