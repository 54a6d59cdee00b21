import { ingestSuite } from './ingest-suite.js';

ingestSuite('aedes');
