import { Module } from '@nestjs/common';

/** Placeholder: filled by the history work. Imported by AppModule. */
@Module({})
export class HistoryModule {}
