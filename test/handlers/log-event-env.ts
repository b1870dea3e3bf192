/** Imported before the handlers: a deployment that turned Powertools' event logging on. */
process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
export {};
